/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-common"

#include "config.h"

#include "moat-event.h"

#include "moat-error.h"

#include <string.h>

G_DEFINE_BOXED_TYPE (MoatEvent, moat_event, moat_event_ref, moat_event_unref)

static void
moat_event_clear (MoatEvent *event)
{
  g_free (event->threat);
  g_free (event->subject);
  g_free (event->action);
  g_free (event->detail);
}

MoatEvent *
moat_event_new (MoatEventSource source,
                const char     *threat,
                MoatSeverity    severity,
                const char     *subject,
                const char     *action,
                const char     *detail)
{
  MoatEvent *event = g_atomic_rc_box_new0 (MoatEvent);

  event->time = g_get_real_time ();
  event->source = source;
  event->severity = severity;
  event->threat = g_strdup (threat != NULL ? threat : "");
  event->subject = g_strdup (subject != NULL ? subject : "");
  event->action = g_strdup (action != NULL ? action : "");
  event->detail = g_strdup (detail != NULL && *detail != '\0' ? detail : "{}");
  return event;
}

MoatEvent *
moat_event_ref (MoatEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  return g_atomic_rc_box_acquire (event);
}

void
moat_event_unref (MoatEvent *event)
{
  g_return_if_fail (event != NULL);
  g_atomic_rc_box_release_full (event, (GDestroyNotify) moat_event_clear);
}

MoatEvent *
moat_event_copy (const MoatEvent *event)
{
  MoatEvent *copy;

  g_return_val_if_fail (event != NULL, NULL);
  copy = moat_event_new (event->source, event->threat, event->severity,
                         event->subject, event->action, event->detail);
  copy->id = event->id;
  copy->time = event->time;
  return copy;
}

static gboolean
check_text (const char *what, const char *value, gsize max, GError **error)
{
  gsize len = strlen (value);

  if (len > max)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Event %s is %" G_GSIZE_FORMAT " bytes long, more than the limit of %"
                   G_GSIZE_FORMAT, what, len, max);
      return FALSE;
    }
  if (!g_utf8_validate (value, len, NULL))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Event %s is not valid UTF-8", what);
      return FALSE;
    }
  return TRUE;
}

/**
 * moat_event_validate:
 *
 * Checks an event from outside (D-Bus, a test feed) before it is stored: a
 * valid threat id, text within the limits, valid UTF-8, a sane time. The
 * detail must be a JSON object; only its outer shape is checked here.
 */
gboolean
moat_event_validate (const MoatEvent *event, GError **error)
{
  gsize dlen;

  if (!moat_threat_id_is_valid (event->threat))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%.64s” is not a threat id of the form vector.kind", event->threat);
      return FALSE;
    }
  if ((guint) event->severity >= MOAT_SEVERITY_LAST ||
      (guint) event->source >= MOAT_EVENT_SOURCE_LAST)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "Event severity or source is out of range");
      return FALSE;
    }
  if (event->time <= 0)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "Event time must be after 1970");
      return FALSE;
    }
  if (!check_text ("subject", event->subject, MOAT_EVENT_SUBJECT_MAX, error) ||
      !check_text ("action", event->action, MOAT_EVENT_ACTION_MAX, error) ||
      !check_text ("detail", event->detail, MOAT_EVENT_DETAIL_MAX, error))
    return FALSE;
  dlen = strlen (event->detail);
  if (dlen < 2 || event->detail[0] != '{' || event->detail[dlen - 1] != '}')
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "Event detail must be a JSON object");
      return FALSE;
    }
  return TRUE;
}

GVariant *
moat_event_to_variant (const MoatEvent *event)
{
  return g_variant_new ("(xxssssss)",
                        event->id,
                        event->time,
                        moat_event_source_to_string (event->source),
                        event->threat,
                        moat_severity_to_string (event->severity),
                        event->subject,
                        event->action,
                        event->detail);
}

MoatEvent *
moat_event_new_from_variant (GVariant *variant, GError **error)
{
  g_autoptr(MoatEvent) event = NULL;
  const char *source, *threat, *severity, *subject, *action, *detail;
  gint64 id, time;
  MoatEventSource src;
  MoatSeverity sev;

  if (!g_variant_is_of_type (variant, MOAT_EVENT_VARIANT_TYPE))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "An event must have the type %s, not %s",
                   MOAT_EVENT_VARIANT_TYPE_STRING, g_variant_get_type_string (variant));
      return NULL;
    }
  g_variant_get (variant, "(xx&s&s&s&s&s&s)",
                 &id, &time, &source, &threat, &severity, &subject, &action, &detail);
  if (!moat_event_source_from_string (source, &src))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%.32s” is not an event source", source);
      return NULL;
    }
  if (!moat_severity_from_string (severity, &sev))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%.32s” is not a severity", severity);
      return NULL;
    }
  event = moat_event_new (src, threat, sev, subject, action, detail);
  event->id = id;
  event->time = time;
  return g_steal_pointer (&event);
}

GVariant *
moat_events_to_variant (GPtrArray *events)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, MOAT_EVENTS_VARIANT_TYPE);
  for (guint i = 0; events != NULL && i < events->len; i++)
    g_variant_builder_add_value (&builder, moat_event_to_variant (g_ptr_array_index (events, i)));
  return g_variant_builder_end (&builder);
}

GPtrArray *
moat_events_new_from_variant (GVariant *variant, GError **error)
{
  g_autoptr(GPtrArray) events = NULL;
  gsize n;

  if (!g_variant_is_of_type (variant, MOAT_EVENTS_VARIANT_TYPE))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Events must have the type a%s, not %s",
                   MOAT_EVENT_VARIANT_TYPE_STRING, g_variant_get_type_string (variant));
      return NULL;
    }
  n = g_variant_n_children (variant);
  events = g_ptr_array_new_full (n, (GDestroyNotify) moat_event_unref);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);
      MoatEvent *event = moat_event_new_from_variant (child, error);

      if (event == NULL)
        return NULL;
      g_ptr_array_add (events, event);
    }
  return g_steal_pointer (&events);
}

/* ---- filter ---- */

MoatEventFilter *
moat_event_filter_new (void)
{
  return g_new0 (MoatEventFilter, 1);
}

MoatEventFilter *
moat_event_filter_copy (const MoatEventFilter *filter)
{
  MoatEventFilter *copy = g_new0 (MoatEventFilter, 1);

  *copy = *filter;
  copy->threat = g_strdup (filter->threat);
  copy->search = g_strdup (filter->search);
  return copy;
}

void
moat_event_filter_free (MoatEventFilter *filter)
{
  if (filter == NULL)
    return;
  g_free (filter->threat);
  g_free (filter->search);
  g_free (filter);
}

static gboolean
is_threat_pattern_valid (const char *pattern)
{
  g_autofree char *probe = NULL;
  gsize len = strlen (pattern);

  if (strcmp (pattern, "*") == 0)
    return TRUE;
  if (len > 2 && pattern[len - 1] == '*' && pattern[len - 2] == '.')
    {
      /* "network.*": the vector must be a real one */
      probe = g_strdup_printf ("%.*sx", (int) (len - 1), pattern);
      return moat_threat_id_is_valid (probe);
    }
  return moat_threat_id_is_valid (pattern);
}

static gboolean
expect_type (const char *key, GVariant *value, const char *type, GError **error)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
    return TRUE;
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
               "Filter key “%s” must have type %s, not %s",
               key, type, g_variant_get_type_string (value));
  return FALSE;
}

MoatEventFilter *
moat_event_filter_new_from_variant (GVariant *variant, GError **error)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  GVariantIter iter;
  const char *key;
  GVariant *value_iter;

  if (variant == NULL)
    return g_steal_pointer (&filter);
  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "An event filter must be a dictionary of type a{sv}");
      return NULL;
    }

  g_variant_iter_init (&iter, variant);
  /* Not g_variant_iter_loop(): the loop returns early on bad input, and
   * iter_loop would leak the current value then. */
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value_iter))
    {
      g_autoptr(GVariant) value = value_iter;

      if (g_str_equal (key, "since") || g_str_equal (key, "until") ||
          g_str_equal (key, "before-id") || g_str_equal (key, "after-id"))
        {
          gint64 v;

          if (!expect_type (key, value, "x", error))
            return NULL;
          v = g_variant_get_int64 (value);
          if (v < 0)
            {
              g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "Filter key “%s” must not be negative", key);
              return NULL;
            }
          if (g_str_equal (key, "since"))
            filter->since = v;
          else if (g_str_equal (key, "until"))
            filter->until = v;
          else if (g_str_equal (key, "before-id"))
            filter->before_id = v;
          else
            filter->after_id = v;
        }
      else if (g_str_equal (key, "threat"))
        {
          const char *s;

          if (!expect_type (key, value, "s", error))
            return NULL;
          s = g_variant_get_string (value, NULL);
          if (!is_threat_pattern_valid (s))
            {
              g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "“%.64s” is not a threat id or pattern (vector.kind or vector.*)", s);
              return NULL;
            }
          g_free (filter->threat);
          filter->threat = g_strdup (s);
        }
      else if (g_str_equal (key, "min-severity"))
        {
          const char *s;

          if (!expect_type (key, value, "s", error))
            return NULL;
          s = g_variant_get_string (value, NULL);
          if (!moat_severity_from_string (s, &filter->min_severity))
            {
              g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "“%.32s” is not a severity (info, low, medium, high, critical)", s);
              return NULL;
            }
        }
      else if (g_str_equal (key, "source"))
        {
          const char *s;

          if (!expect_type (key, value, "s", error))
            return NULL;
          s = g_variant_get_string (value, NULL);
          if (!moat_event_source_from_string (s, &filter->source))
            {
              g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "“%.32s” is not an event source", s);
              return NULL;
            }
          filter->has_source = TRUE;
        }
      else if (g_str_equal (key, "search"))
        {
          const char *s;
          gsize len;

          if (!expect_type (key, value, "s", error))
            return NULL;
          s = g_variant_get_string (value, &len);
          if (len > 256)
            {
              g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                   "Search text is longer than 256 bytes");
              return NULL;
            }
          g_free (filter->search);
          filter->search = len > 0 ? g_strdup (s) : NULL;
        }
      else if (g_str_equal (key, "order"))
        {
          const char *s;

          if (!expect_type (key, value, "s", error))
            return NULL;
          s = g_variant_get_string (value, NULL);
          if (g_str_equal (s, "asc"))
            filter->ascending = TRUE;
          else if (g_str_equal (s, "desc"))
            filter->ascending = FALSE;
          else
            {
              g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           "Order must be “asc” or “desc”, not “%.16s”", s);
              return NULL;
            }
        }
      else
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       "Unknown event filter key “%.32s”", key);
          return NULL;
        }
    }
  return g_steal_pointer (&filter);
}

GVariant *
moat_event_filter_to_variant (const MoatEventFilter *filter)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (filter == NULL)
    return g_variant_builder_end (&b);
  if (filter->since > 0)
    g_variant_builder_add (&b, "{sv}", "since", g_variant_new_int64 (filter->since));
  if (filter->until > 0)
    g_variant_builder_add (&b, "{sv}", "until", g_variant_new_int64 (filter->until));
  if (filter->threat != NULL)
    g_variant_builder_add (&b, "{sv}", "threat", g_variant_new_string (filter->threat));
  if (filter->min_severity != MOAT_SEVERITY_INFO)
    g_variant_builder_add (&b, "{sv}", "min-severity",
                           g_variant_new_string (moat_severity_to_string (filter->min_severity)));
  if (filter->has_source)
    g_variant_builder_add (&b, "{sv}", "source",
                           g_variant_new_string (moat_event_source_to_string (filter->source)));
  if (filter->search != NULL)
    g_variant_builder_add (&b, "{sv}", "search", g_variant_new_string (filter->search));
  if (filter->before_id > 0)
    g_variant_builder_add (&b, "{sv}", "before-id", g_variant_new_int64 (filter->before_id));
  if (filter->after_id > 0)
    g_variant_builder_add (&b, "{sv}", "after-id", g_variant_new_int64 (filter->after_id));
  if (filter->ascending)
    g_variant_builder_add (&b, "{sv}", "order", g_variant_new_string ("asc"));
  return g_variant_builder_end (&b);
}

static gboolean
contains_casefold (const char *haystack, const char *needle_folded)
{
  g_autofree char *folded = g_utf8_casefold (haystack, -1);

  return strstr (folded, needle_folded) != NULL;
}

/**
 * moat_event_filter_matches:
 *
 * The same selection the store makes in SQL, for events that arrive live
 * (EventsAdded) and must be shown or dropped by a filtered view.
 */
gboolean
moat_event_filter_matches (const MoatEventFilter *filter, const MoatEvent *event)
{
  if (filter == NULL)
    return TRUE;
  if (filter->since > 0 && event->time < filter->since)
    return FALSE;
  if (filter->until > 0 && event->time >= filter->until)
    return FALSE;
  if (filter->threat != NULL && !moat_threat_id_matches (event->threat, filter->threat))
    return FALSE;
  if (event->severity < filter->min_severity)
    return FALSE;
  if (filter->has_source && event->source != filter->source)
    return FALSE;
  if (filter->before_id > 0 && event->id >= filter->before_id)
    return FALSE;
  if (filter->after_id > 0 && event->id <= filter->after_id)
    return FALSE;
  if (filter->search != NULL)
    {
      g_autofree char *needle = g_utf8_casefold (filter->search, -1);

      if (!contains_casefold (event->subject, needle) &&
          !contains_casefold (event->threat, needle) &&
          !contains_casefold (event->action, needle))
        return FALSE;
    }
  return TRUE;
}
