/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <json-glib/json-glib.h>

#include "moat-client.h"

G_BEGIN_DECLS

/*
 * The helpdesk report's model (`moatctl report` and the app's Export)
 * (data/report/moat-report.schema.json), collected from moatd with only what
 * its API shows on screen: Version and the policy's name, GetHealth with
 * HealthLevel, GetDevices and GetDevicePosture, GetThreats and ListEvents.
 *
 * @since: the window's start (µs since the Unix epoch), 0 for everything
 * @sections: the sections to include (MOAT_REPORT_SECTIONS names)
 *
 * A moatd without GetHealth, or a phone list that fails, makes a report that
 * says so; an unreachable moatd fails it.
 */
void      moat_report_model_build_async  (MoatClient          *client,
                                        gint64               since,
                                        const char * const  *sections,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
JsonNode *moat_report_model_build_finish (MoatClient          *client,
                                        GAsyncResult        *result,
                                        GError             **error);

/* Parses --include: comma-separated section names, each at most once. */
GStrv     moat_report_model_parse_sections (const char  *text,
                                          GError     **error);

G_END_DECLS
