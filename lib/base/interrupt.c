#include "interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t received_signal;

static void on_signal(int signo)
{
    received_signal = signo;
}

void ws_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read() must wake up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a closed terminal or ssh session: stop as cleanly as on SIGTERM */
}

int ws_interrupted(void)
{
    return received_signal;
}

int ws_interrupt_status(void)
{
    return 128 + received_signal;
}
