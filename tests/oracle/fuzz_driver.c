/* Driver of tests/oracle/fuzz_parity.py: lib/text/textmatch on lines of stdin, one answer per line.
 *   fuzz_driver [--repeat N]   "a<TAB>b" lines -> ws_token_set_ratio(a, b); the time of the N
 *                              passes over all pairs (I/O excluded) goes to stderr: "seconds S"
 *   fuzz_driver --process      text lines -> ws_fuzz_process(text)
 *   fuzz_driver --goal-option  "name<TAB>value" lines -> ws_goal_option_text(name, value) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "textmatch.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_driver: %s\n", what);
    exit(2);
}

/* Splits a line at its first tab: returns the second field ("" when there is none). */
static char *split_tab(char *line)
{
    char *tab = strchr(line, '\t');
    if (!tab)
        return line + strlen(line);
    *tab = '\0';
    return tab + 1;
}

int main(int argc, char **argv)
{
    enum { RATIO, PROCESS, GOAL } mode = RATIO;
    long repeat = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--process") == 0)
            mode = PROCESS;
        else if (strcmp(argv[i], "--goal-option") == 0)
            mode = GOAL;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = strtol(argv[++i], NULL, 10);
        else
            die("usage: fuzz_driver [--repeat N | --process | --goal-option] < lines");
    }
    if (repeat < 1)
        repeat = 1;

    char **lines = NULL;
    size_t n = 0, cap = 0, len = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, stdin)) >= 0) {
        if (got > 0 && line[got - 1] == '\n')
            line[got - 1] = '\0';
        if (!(lines = ws_grow(lines, &cap, n + 1, sizeof *lines, 4096)))
            die("out of memory");
        if (!(lines[n++] = strdup(line)))
            die("out of memory");
    }
    free(line);

    if (mode == RATIO) {
        char **second = malloc((n ? n : 1) * sizeof *second);
        int *score = malloc((n ? n : 1) * sizeof *score);
        if (!second || !score)
            die("out of memory");
        for (size_t i = 0; i < n; i++)
            second[i] = split_tab(lines[i]);
        double t0 = now();
        for (long r = 0; r < repeat; r++)
            for (size_t i = 0; i < n; i++)
                score[i] = ws_token_set_ratio(lines[i], second[i]);
        double secs = now() - t0;
        for (size_t i = 0; i < n; i++) {
            if (score[i] < 0)
                die("allocation failure");
            printf("%d\n", score[i]);
        }
        fprintf(stderr, "seconds %.6f\n", secs);
        free(second);
        free(score);
    } else {
        for (size_t i = 0; i < n; i++) {
            char *out = mode == PROCESS ? ws_fuzz_process(lines[i])
                                        : ws_goal_option_text(lines[i], split_tab(lines[i]));
            if (!out)
                die("allocation failure");
            fputs(out, stdout);
            putchar('\n');
            free(out);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return fflush(stdout) == 0 ? 0 : 1;
}
