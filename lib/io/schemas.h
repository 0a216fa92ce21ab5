/* schemas: the version of each record type this build writes and reads, one place for all
 * (the contracts are schemas/<type>.schema.json; a reader refuses another version, naming the
 * file and line). */
#ifndef WS_SCHEMAS_H
#define WS_SCHEMAS_H

#define WS_GOAL_VERSION 1
#define WS_TRAJECTORY_VERSION 1
#define WS_PAIR_VERSION 1
#define WS_TOKENS_VERSION 1
#define WS_METRICS_VERSION 1
#define WS_BANDIT_VERSION 1
#define WS_SUMMARY_VERSION 1

#endif
