/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The helpdesk report: a model (a JSON object following
 * data/report/moat-report.schema.json) rendered as JSON, as one self-contained
 * printable HTML file, or as an A4 PDF. Every string of the model is untrusted
 * (it comes from moatd and from phones): HTML escapes it, PDF never parses it
 * as markup.
 */

typedef enum {
  MOAT_REPORT_FORMAT_JSON,
  MOAT_REPORT_FORMAT_HTML,
  MOAT_REPORT_FORMAT_PDF,
} MoatReportFormat;

/* The sections a report may hold, in the order they are rendered. */
#define MOAT_REPORT_SECTIONS "computer,phones,threats,actions,health"

gboolean    moat_report_format_from_string (const char       *str,
                                            MoatReportFormat *out);
const char *moat_report_format_to_string   (MoatReportFormat  format);

gboolean    moat_report_validate_model     (JsonNode         *model,
                                            GError          **error);
gboolean    moat_report_write              (JsonNode         *model,
                                            MoatReportFormat  format,
                                            GOutputStream    *out,
                                            GError          **error);

/* moat_report_write() in a worker thread, for a GUI's Export: @model is
 * copied, @out is used only by the worker until the callback runs. */
void        moat_report_write_async        (JsonNode            *model,
                                            MoatReportFormat     format,
                                            GOutputStream       *out,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    moat_report_write_finish       (GAsyncResult        *result,
                                            GError             **error);

G_END_DECLS
