# bench/catalog_scale.sh: the scale benchmark's whole path at 2,000 products (1,000 sessions too),
# so that it never rots.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "bench/catalog_scale.sh" "no WebShop data at $WEBSHOP_DATA"; finish; fi
check "bench/catalog_scale.sh 2000: every step measured, the mapped file on disk, no error" bash -c "
  BIN='$BIN' bash '$PROJECT_ROOT/bench/catalog_scale.sh' 2000 '$T_TMP/w' > '$T_TMP/out' &&
  [ \$(grep -c '^| [a-w]' '$T_TMP/out') = 10 ] && grep -q 'products.wscat [0-9.]*M' '$T_TMP/out' &&
  [ \$(grep -c '\"ok\":true' '$T_TMP/w/answers') = 500 ]"
finish
