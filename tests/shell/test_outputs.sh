# Outputs onto names that are not regular files (lib/io/outfile): a symbolic link has its target
# replaced and stays a link, a device and a FIFO are written straight into and stay what they
# are, a directory is refused; for a record stream (-o), thompson-eval's --summary and --table,
# and a trainer's checkpoint and --metrics.
. "$(dirname "$0")/lib.sh"
R=$BIN/records
D=$T_TMP/o
mkdir "$D"
printf '{"type":"x","v":1,"i":%d}\n' 1 2 3 > "$T_TMP/in.jsonl"
# A /dev/null of our own (mknod needs root): the tests that write into a device skip without it.
have_null=0
mknod -m 666 "$D/null" c 1 3 2>/dev/null && have_null=1
is_null() { [ -c "$1" ] && [ "$(stat -c %t:%T "$1")" = 1:3 ]; }
# fifo_case NAME CHECK COMMAND...: COMMAND writes into the FIFO $D/fifo while a reader copies it
# to $T_TMP/fifo.out (bounded in time: a command that never opens the FIFO cannot hang the
# test); passes when COMMAND succeeds, the FIFO is still one, and the shell code CHECK succeeds.
fifo_case() {
    local name=$1 want=$2; shift 2
    rm -f "$D/fifo" "$T_TMP/fifo.out"; mkfifo "$D/fifo"
    timeout 60 cat "$D/fifo" > "$T_TMP/fifo.out" & local reader=$!
    "$@" > /dev/null 2> "$T_TMP/fifo.err"; local rc=$?
    wait $reader
    if [ $rc -eq 0 ] && [ -p "$D/fifo" ] && eval "$want"; then ok "$name"
    else fail "$name" "exit $rc" "$(head -c 400 "$T_TMP/fifo.err")"; fi
}

echo old > "$D/target.jsonl"; ln -s target.jsonl "$D/link"
check "-o onto a symlink: the target is replaced, the link stays" bash -c "
  '$R' -q -o '$D/link' '$T_TMP/in.jsonl' && [ -L '$D/link' ] && [ \"\$(readlink '$D/link')\" = target.jsonl ] &&
  cmp '$D/target.jsonl' '$T_TMP/in.jsonl' && ! ls '$D'/*.tmp-* 2>/dev/null"
ln -s "$D/sub/new.jsonl.zst" "$D/dangling"; mkdir "$D/sub"
check "-o onto a link to a file not there yet: the file is created, the link stays" bash -c "
  '$R' -q -o '$D/dangling' '$T_TMP/in.jsonl' && [ -L '$D/dangling' ] && zstdcat '$D/sub/new.jsonl.zst' | cmp - '$T_TMP/in.jsonl'"
if [ $have_null = 1 ]; then
    check "-o onto a character device: written into, the device stays" bash -c "
      $(declare -f is_null)
      '$R' -q -o '$D/null' '$T_TMP/in.jsonl' && is_null '$D/null'"
else skip "-o onto a character device" "mknod is not allowed here"; fi
fifo_case "-o onto a FIFO: the reader gets the records, the FIFO stays" 'cmp -s "$T_TMP/fifo.out" "$T_TMP/in.jsonl"' \
    "$R" -q -o "$D/fifo" "$T_TMP/in.jsonl"
mkdir "$D/dir"
expect_error "-o onto a directory is refused before anything is written" 1 "^records: $D/dir: is a directory" \
    "$R" -q -o "$D/dir" "$T_TMP/in.jsonl"

if ! have_data; then skip "thompson-eval and trainer outputs" "no WebShop data at $WEBSHOP_DATA"; finish; fi
"$BIN/goals" -q -s eval -n 3 > "$T_TMP/goals.jsonl"
te() { "$BIN/thompson-eval" -q --arm random --arm oracle --fixed 3 "$@" "$T_TMP/goals.jsonl"; }
te --summary "$T_TMP/s.jsonl" --table "$T_TMP/t.md" > /dev/null
echo old > "$D/s-target"; ln -sf s-target "$D/s-link"; echo old > "$D/t-target"; ln -sf t-target "$D/t-link"
check "--summary and --table onto symlinks: the targets are replaced, the links stay" bash -c "
  $(declare -f te); T_TMP='$T_TMP' BIN='$BIN'
  te --summary '$D/s-link' --table '$D/t-link' > /dev/null && [ -L '$D/s-link' ] && [ -L '$D/t-link' ] &&
  cmp '$D/s-target' '$T_TMP/s.jsonl' && cmp '$D/t-target' '$T_TMP/t.md'"
if [ $have_null = 1 ]; then
    check "-o, --summary and --table onto a character device: the device stays" bash -c "
      $(declare -f te is_null); T_TMP='$T_TMP' BIN='$BIN'
      te -o '$D/null' --summary '$D/null' --table '$D/null' && is_null '$D/null'"
else skip "thompson-eval outputs onto a character device" "mknod is not allowed here"; fi
fifo_case "--summary onto a FIFO: the reader gets the summary" 'cmp -s "$T_TMP/fifo.out" "$T_TMP/s.jsonl"' \
    te --summary "$D/fifo"
fifo_case "--table onto a FIFO: the reader gets the table" 'cmp -s "$T_TMP/fifo.out" "$T_TMP/t.md"' \
    te --table "$D/fifo"
expect_error "--table onto a directory is refused" 1 "^thompson-eval: $D/dir: is a directory" te --table "$D/dir"

if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "trainer outputs" "no vocabulary: run make model"; finish; fi
"$BIN/rollout" -q -p oracle < "$T_TMP/goals.jsonl" | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
il() { "$BIN/train-il" -q --config tiny --threads 1 -b 2 --steps 2 --seed 1 "$@" "$T_TMP/tok.jsonl"; }
il -o "$T_TMP/ref.ckpt" --metrics "$T_TMP/ref.metrics"
echo old > "$D/ckpt-target"; ln -sf ckpt-target "$D/ckpt-link"
check "a checkpoint onto a symlink: the target is replaced, the link stays" bash -c "
  $(declare -f il); T_TMP='$T_TMP' BIN='$BIN'
  il -o '$D/ckpt-link' > /dev/null && [ -L '$D/ckpt-link' ] && cmp '$D/ckpt-target' '$T_TMP/ref.ckpt'"
if [ $have_null = 1 ]; then
    check "--metrics and the checkpoint onto a character device: the device stays" bash -c "
      $(declare -f il is_null); T_TMP='$T_TMP' BIN='$BIN'
      il -o '$D/null' --metrics '$D/null' && is_null '$D/null'"
else skip "trainer outputs onto a character device" "mknod is not allowed here"; fi
fifo_case "--metrics onto a FIFO: the reader gets every metrics record" '[ $(wc -l < "$T_TMP/fifo.out") = 2 ]' \
    il -o "$T_TMP/f.ckpt" --metrics "$D/fifo"
finish
