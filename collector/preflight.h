/* SPDX-License-Identifier: Apache-2.0 */
/*
 * preflight.h - stormtrap -T: what the real start needs from the system.
 */
#ifndef ST_PREFLIGHT_H
#define ST_PREFLIGHT_H

#include "st_config.h"
#include "st_sinks.h"

/**
 * @brief Check, without starting anything, what start-up would fail on
 * beyond the configuration itself: the users file (file:line of the first
 * bad line), every listen address and metrics.listen (bound and closed
 * again: a port in use fails here), every output (st_sink_check(): a file's
 * directory, a spool directory, each librdkafka property as librdkafka
 * judges it). Each problem is one line handed to @p report, and the checks
 * go on after it.
 * @param cfg    a configuration that passed st_config_validate()
 * @param sconf  the settings the sinks would be created with
 * @return the number of problems reported (0: start-up would get past
 *         them), or -ENOMEM.
 */
int st_preflight(const st_config_t *cfg, const st_sink_conf_t *sconf, st_sink_report_fn report,
                 void *arg);

#endif /* ST_PREFLIGHT_H */
