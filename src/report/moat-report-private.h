/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-report.h"

G_BEGIN_DECLS

/*
 * The report as a list of blocks, built once from the model so that HTML and
 * PDF show the same content. Every string in a block is plain text (valid
 * UTF-8, untrusted): each renderer escapes it for its own output.
 */
typedef enum {
  MOAT_REPORT_BLOCK_TITLE,      /* text; facts: label, value pairs */
  MOAT_REPORT_BLOCK_HEADING,    /* text: a section */
  MOAT_REPORT_BLOCK_SUBHEADING, /* text, badge, tone: a phone */
  MOAT_REPORT_BLOCK_FACTS,      /* facts: label, value pairs */
  MOAT_REPORT_BLOCK_ITEM,       /* text (title), badge, tone, facts, steps, evidence, command */
  MOAT_REPORT_BLOCK_NOTE,       /* text: a muted sentence */
  MOAT_REPORT_BLOCK_TABLE,      /* rows: header row first; tones: one per row */
  MOAT_REPORT_BLOCK_FOOTER,     /* text */
} MoatReportBlockKind;

typedef struct {
  MoatReportBlockKind  kind;
  const char          *section;  /* HEADING: summary, computer, health, phones, threats, actions */
  char                *text;
  char                *badge;    /* severity or status in words, or NULL */
  const char          *tone;     /* critical, high, medium, low, info, ok, unknown, none */
  GPtrArray           *facts;    /* char *: label, value, label, value… */
  GPtrArray           *steps;    /* char * */
  char                *evidence; /* pretty JSON, monospace */
  char                *command;  /* monospace */
  GPtrArray           *rows;     /* GStrv: cells */
  GPtrArray           *tones;    /* const char *, one per row */
} MoatReportBlock;

typedef struct {
  GPtrArray *blocks;             /* MoatReportBlock */
  char      *title;              /* for the PDF's metadata and page footer */
  char      *footer_left;        /* e.g. "Moat report · host · date" */
} MoatReportDocument;

MoatReportDocument *moat_report_document_new  (JsonNode           *model);
void                moat_report_document_free (MoatReportDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatReportDocument, moat_report_document_free)

/* "#rrggbb" for a tone. */
const char *moat_report_tone_color (const char *tone);

gboolean moat_report_write_html (MoatReportDocument *doc,
                                 GOutputStream      *out,
                                 GError            **error);
gboolean moat_report_write_pdf  (MoatReportDocument *doc,
                                 GOutputStream      *out,
                                 GError            **error);

G_END_DECLS
