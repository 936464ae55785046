/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mibs.h - MIB translation in the collector (mibs.c): loading from the
 * configuration, publishing to the workers, metrics, --translate. Main
 * thread only, except st_mibs_metrics() (any thread).
 */
#ifndef ST_MIBS_H
#define ST_MIBS_H

#include <stdio.h>

#include "st_config.h"
#include "st_mib.h"

typedef struct st_rt st_rt_t;

/**
 * @brief Load the MIBs the configuration names (mibs.dirs, mibs.modules,
 * mibs.prefer, mibs.timeout). Each parser message is logged once, at warn,
 * as "mib: FILE:LINE: message"; broken modules are counted in stats and
 * the rest is loaded.
 * @param out receives the structure, or NULL when mibs.dirs is empty
 * @return 0, or a negative error when the load failed as a whole (err names
 *         the cause: no MIB file found, the parser could not run, ...)
 */
int st_mibs_load(const st_config_t *cfg, st_mib_t **out, st_mib_stats_t *stats, char *err,
                 size_t errlen);

/**
 * @brief Give the workers a new structure (or NULL: translation off) and
 * free the old one once no worker holds it. Takes ownership of mib.
 */
void st_mibs_publish(st_rt_t *rt, st_mib_t *mib, const st_mib_stats_t *stats);

/** @brief Count a reload whose MIBs could not be loaded (the old stay). */
void st_mibs_failed(st_rt_t *rt);

/** @brief The MIB gauges and counters, Prometheus text. */
void st_mibs_metrics(const st_rt_t *rt, FILE *out);

/**
 * @brief `stormtrap --translate`: one line per OID on out, "OID<TAB>NAME"
 * (the name a JSON line would carry) or "OID<TAB>why not" (not an OID;
 * unknown; unknown below a named node that is not an object).
 * @return how many OIDs got no name
 */
int st_mibs_translate(const st_mib_t *mib, char *const *oids, size_t n, FILE *out);

#endif /* ST_MIBS_H */
