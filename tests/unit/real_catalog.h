/* The real 1k catalog, for the unit tests that need it: $WEBSHOP_DATA, else ../shared/webshop-1k
 * (the suite runs from the repository root). A test without it is skipped, saying where it looked.
 * Header-only; include after cmocka.h. */
#ifndef WS_TEST_REAL_CATALOG_H
#define WS_TEST_REAL_CATALOG_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *real_catalog_dir(void)
{
    const char *dir = getenv("WEBSHOP_DATA");
    return dir ? dir : "../shared/webshop-1k";
}

/* The directory, or the calling test skipped (cmocka's skip() leaves the test). */
static const char *real_catalog_or_skip(void)
{
    const char *dir = real_catalog_dir();
    char path[4096];
    snprintf(path, sizeof path, "%s/products.jsonl.zst", dir);
    if (access(path, R_OK) != 0) {
        print_message("# skip: no catalog at %s (set WEBSHOP_DATA)\n", dir);
        skip();
    }
    return dir;
}

#endif
