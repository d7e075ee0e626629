/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib-object.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/* The D-Bus form of one event: (id, time in µs since the Unix epoch UTC, source,
 * threat, severity, subject, action, detail as JSON text). */
#define MOAT_EVENT_VARIANT_TYPE_STRING "(xxssssss)"
#define MOAT_EVENT_VARIANT_TYPE ((const GVariantType *) MOAT_EVENT_VARIANT_TYPE_STRING)
#define MOAT_EVENTS_VARIANT_TYPE ((const GVariantType *) "a" MOAT_EVENT_VARIANT_TYPE_STRING)

/* Limits that every producer and the store enforce. */
#define MOAT_EVENT_SUBJECT_MAX 1024
#define MOAT_EVENT_ACTION_MAX 128
#define MOAT_EVENT_DETAIL_MAX 16384

#define MOAT_TYPE_EVENT (moat_event_get_type ())

/**
 * MoatEvent:
 * @id: the store's row id, 0 until the event is committed
 * @time: wall-clock time in µs since the Unix epoch, UTC
 * @source: which part of Moat recorded it
 * @threat: threat id `vector.kind` (see DESIGN.md)
 * @severity: how bad it is
 * @subject: what it is about: a host, a device serial, an app id
 * @action: what Moat did (`blocked`, `notified`, `vpn_on` ...), or ""
 * @detail: a JSON object with the evidence, or "{}"
 *
 * One event model for everything Moat records. Reference counted and
 * immutable once shared: create, fill, then hand on.
 */
typedef struct {
  gint64           id;
  gint64           time;
  MoatEventSource  source;
  MoatSeverity     severity;
  char            *threat;
  char            *subject;
  char            *action;
  char            *detail;
} MoatEvent;

GType      moat_event_get_type      (void) G_GNUC_CONST;
MoatEvent *moat_event_new           (MoatEventSource  source,
                                     const char      *threat,
                                     MoatSeverity     severity,
                                     const char      *subject,
                                     const char      *action,
                                     const char      *detail);
MoatEvent *moat_event_ref           (MoatEvent       *event);
void       moat_event_unref         (MoatEvent       *event);
MoatEvent *moat_event_copy          (const MoatEvent *event);
gboolean   moat_event_validate      (const MoatEvent *event,
                                     GError         **error);
GVariant  *moat_event_to_variant    (const MoatEvent *event);
MoatEvent *moat_event_new_from_variant (GVariant    *variant,
                                        GError     **error);
GVariant  *moat_events_to_variant   (GPtrArray       *events);
GPtrArray *moat_events_new_from_variant (GVariant   *variant,
                                         GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatEvent, moat_event_unref)

/**
 * MoatEventFilter:
 * @since: only events at or after this time (µs), or 0
 * @until: only events before this time (µs), or 0
 * @threat: a threat pattern (`content.malware`, `network.*`), or NULL
 * @min_severity: only events at least this severe
 * @has_source: whether @source applies
 * @source: only events from this source
 * @search: case-insensitive substring of subject, threat or action, or NULL
 * @before_id: only events with a smaller id, or 0
 * @after_id: only events with a larger id, or 0
 * @ascending: oldest first (default: newest first)
 *
 * Parsed from the `a{sv}` filter of ListEvents/CountEvents; keys are
 * `since`, `until` (x), `threat`, `min-severity`, `source`, `search` (s),
 * `before-id`, `after-id` (x), `order` (s: `asc` or `desc`).
 */
typedef struct {
  gint64           since;
  gint64           until;
  char            *threat;
  MoatSeverity     min_severity;
  gboolean         has_source;
  MoatEventSource  source;
  char            *search;
  gint64           before_id;
  gint64           after_id;
  gboolean         ascending;
} MoatEventFilter;

MoatEventFilter *moat_event_filter_new        (void);
MoatEventFilter *moat_event_filter_copy       (const MoatEventFilter *filter);
void             moat_event_filter_free       (MoatEventFilter       *filter);
MoatEventFilter *moat_event_filter_new_from_variant (GVariant        *variant,
                                                     GError         **error);
GVariant        *moat_event_filter_to_variant (const MoatEventFilter *filter);
gboolean         moat_event_filter_matches    (const MoatEventFilter *filter,
                                               const MoatEvent       *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatEventFilter, moat_event_filter_free)

G_END_DECLS
