/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-health"

#include "config.h"

#include "moat-remediation.h"

#include "moat-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

/*
 * MoatRemediation: when to remind the user of a health problem that is not
 * fixed yet. Pure logic: the caller feeds it the current health items and
 * the time, shows the items it returns, and saves its state (JSON) off the
 * main loop when "changed" fires.
 *
 * Each problem (check id + subject) is tracked from the first update that
 * lists it with status "problem". Its reminders follow the cadence: the
 * first is due intervals[0] after it was first seen, the k-th intervals[k]
 * after the one before, and past the list one every @repeat (none when
 * @repeat is 0). The default is "now, after 1 day, then every 3 days".
 * A reminder missed while the computer slept is given once, on the next
 * update, and the next one counts from then.
 *
 * A snoozed problem is not due before its snooze ends. Status "ok" means
 * fixed: the problem is forgotten, with its snooze, and starts over when it
 * comes back. Status "unknown" (the check could not tell) keeps the problem
 * but reminds of nothing. A problem that no update lists for
 * MOAT_REMEDIATION_FORGET_AFTER (a phone that is gone) is forgotten.
 *
 * Only problems whose check matches the alerting patterns at the least
 * severity or above are due; the others are still tracked, so a problem
 * that gets worse is reminded of at once, on the schedule it has had since
 * it was first seen.
 */

struct _MoatRemediation
{
  GObject      parent_instance;

  /* owned */
  GHashTable  *problems;        /* "id\nsubject" -> Problem */
  gint64       intervals[MOAT_REMEDIATION_MAX_INTERVALS];
  guint        n_intervals;
  gint64       repeat;
  GStrv        patterns;        /* NULL: every check */
  MoatSeverity min_severity;
};

G_DEFINE_TYPE (MoatRemediation, moat_remediation, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define STATE_VERSION 1
#define MAX_SUBJECT 256
#define MAX_ID 64
/* Times in the state must lie before the year 10000. */
#define MAX_TIME G_GINT64_CONSTANT (253402300799999999)
#define MAX_COUNT 1000000

typedef struct {
  char    *id;
  char    *subject;
  gint64   first_seen;
  gint64   last_seen;
  gint64   last_reminded;   /* 0: never */
  guint    count;
  gint64   snoozed_until;   /* 0: not snoozed */
  /* not saved: listed as an alerting problem by the last update */
  gboolean alerting;
} Problem;

static void
problem_free (gpointer data)
{
  Problem *p = data;

  g_free (p->id);
  g_free (p->subject);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Problem, problem_free)

static char *
make_key (const char *id, const char *subject)
{
  return g_strconcat (id, "\n", subject != NULL ? subject : "", NULL);
}

static gint64
add_saturated (gint64 a, gint64 b)
{
  return a > G_MAXINT64 - b ? G_MAXINT64 : a + b;
}

/* When @p's next reminder is due, snooze included; G_MAXINT64 for never. */
static gint64
due_at (MoatRemediation *self, const Problem *p)
{
  gint64 base = p->count == 0 ? p->first_seen : p->last_reminded;
  gint64 at;

  if (p->count < self->n_intervals)
    at = add_saturated (base, self->intervals[p->count]);
  else if (self->repeat > 0)
    at = add_saturated (base, self->repeat);
  else
    return G_MAXINT64;
  return MAX (at, p->snoozed_until);
}

static void
emit_changed (MoatRemediation *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
}

/* ---- state ---- */

static gboolean
valid_check_id (const char *id)
{
  const char *dot = strchr (id, '.');

  if (strlen (id) > MAX_ID || dot == NULL || dot == id || dot[1] == '\0')
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_' || (*p == '.' && p == dot)))
      return FALSE;
  return TRUE;
}

static gboolean G_GNUC_PRINTF (3, 4)
state_fail (GError **error, guint index, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  if (index == G_MAXUINT)
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "remediation state: %s", reason);
  else
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                 "remediation state: problem %u: %s", index, reason);
  return FALSE;
}

/* json-glib parses by recursion: refuse deep nesting before it sees it. */
static gboolean
nesting_ok (const char *json, gsize length, guint max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = json[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* A member that must be a whole number from 0 to @max; absent is 0. */
static gboolean
get_int_member (JsonObject *object, const char *name, gint64 max, guint index, gint64 *out,
                GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = 0;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return state_fail (error, index, "“%s” is not a whole number", name);
  *out = json_node_get_int (node);
  if (*out < 0 || *out > max)
    return state_fail (error, index, "“%s” is out of range", name);
  return TRUE;
}

static const char *
get_string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static Problem *
problem_from_json (JsonNode *node, guint index, GError **error)
{
  g_autoptr(Problem) p = NULL;
  JsonObject *object;
  const char *id, *subject;
  gint64 count;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      state_fail (error, index, "not an object");
      return NULL;
    }
  object = json_node_get_object (node);
  id = get_string_member (object, "id");
  subject = get_string_member (object, "subject");
  if (id == NULL || !valid_check_id (id))
    {
      state_fail (error, index, "“id” is not a check id");
      return NULL;
    }
  if (subject == NULL || strlen (subject) > MAX_SUBJECT || strchr (subject, '\n') != NULL)
    {
      state_fail (error, index, "“subject” is missing or not a subject");
      return NULL;
    }

  p = g_new0 (Problem, 1);
  p->id = g_strdup (id);
  p->subject = g_strdup (subject);
  if (!get_int_member (object, "first_seen", MAX_TIME, index, &p->first_seen, error) ||
      !get_int_member (object, "last_seen", MAX_TIME, index, &p->last_seen, error) ||
      !get_int_member (object, "last_reminded", MAX_TIME, index, &p->last_reminded, error) ||
      !get_int_member (object, "snoozed_until", MAX_TIME, index, &p->snoozed_until, error) ||
      !get_int_member (object, "count", MAX_COUNT, index, &count, error))
    return NULL;
  p->count = (guint) count;
  if (p->first_seen == 0)
    {
      state_fail (error, index, "“first_seen” is missing");
      return NULL;
    }
  p->last_seen = MAX (p->last_seen, p->first_seen);
  if (p->count > 0 && p->last_reminded == 0)
    {
      state_fail (error, index, "reminded %u times but “last_reminded” is missing", p->count);
      return NULL;
    }
  return g_steal_pointer (&p);
}

/* ---- GObject ---- */

static void
moat_remediation_finalize (GObject *object)
{
  MoatRemediation *self = MOAT_REMEDIATION (object);

  g_clear_pointer (&self->problems, g_hash_table_unref);
  g_clear_pointer (&self->patterns, g_strfreev);

  G_OBJECT_CLASS (moat_remediation_parent_class)->finalize (object);
}

static void
moat_remediation_class_init (MoatRemediationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = moat_remediation_finalize;

  /**
   * MoatRemediation::changed:
   *
   * The state to save changed: a problem was first seen, reminded of,
   * snoozed, fixed or forgotten, or a state was loaded.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
moat_remediation_init (MoatRemediation *self)
{
  self->problems = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, problem_free);
  self->intervals[0] = MOAT_REMEDIATION_DEFAULT_FIRST;
  self->intervals[1] = MOAT_REMEDIATION_DEFAULT_SECOND;
  self->n_intervals = 2;
  self->repeat = MOAT_REMEDIATION_DEFAULT_REPEAT;
  self->min_severity = MOAT_SEVERITY_MEDIUM;
}

/* ---- public API ---- */

/**
 * moat_remediation_new:
 *
 * Returns: (transfer full): a scheduler with the default cadence (now,
 *   after 1 day, then every 3 days) that alerts for every check with a
 *   problem of severity medium or worse, and no problems yet
 */
MoatRemediation *
moat_remediation_new (void)
{
  return g_object_new (MOAT_TYPE_REMEDIATION, NULL);
}

/**
 * moat_remediation_set_cadence:
 * @intervals_us: (array length=n_intervals): the first reminder's delay
 *   after the problem is first seen, then each next one's after the one
 *   before (µs, each from 0)
 * @n_intervals: how many; at most MOAT_REMEDIATION_MAX_INTERVALS
 * @repeat_us: after the list, one reminder every @repeat_us; 0 for none
 *
 * Sets when reminders are due. No intervals and no repeat: no reminders.
 * Problems already reminded of keep their count, so the new cadence goes on
 * from where each one is.
 */
void
moat_remediation_set_cadence (MoatRemediation *self, const gint64 *intervals_us, guint n_intervals,
                              gint64 repeat_us)
{
  g_return_if_fail (MOAT_IS_REMEDIATION (self));
  g_return_if_fail (intervals_us != NULL || n_intervals == 0);
  g_return_if_fail (n_intervals <= MOAT_REMEDIATION_MAX_INTERVALS);
  g_return_if_fail (repeat_us >= 0);

  for (guint i = 0; i < n_intervals; i++)
    g_return_if_fail (intervals_us[i] >= 0);
  for (guint i = 0; i < n_intervals; i++)
    self->intervals[i] = intervals_us[i];
  self->n_intervals = n_intervals;
  self->repeat = repeat_us;
}

/**
 * moat_remediation_set_alerting:
 * @check_patterns: (nullable) (array zero-terminated=1): check ids
 *   ("computer.disk_encryption"), areas ("moat.*") or "*"; NULL for every
 *   check, empty for none
 * @min_severity: the least severity that alerts
 *
 * Sets which problems are reminded of.
 */
void
moat_remediation_set_alerting (MoatRemediation *self, const char * const *check_patterns,
                               MoatSeverity min_severity)
{
  g_return_if_fail (MOAT_IS_REMEDIATION (self));

  g_clear_pointer (&self->patterns, g_strfreev);
  self->patterns = g_strdupv ((GStrv) check_patterns);
  self->min_severity = min_severity;
}

/* Whether a problem of check @id at @severity is reminded of. */
gboolean
moat_remediation_is_alerting (MoatRemediation *self, const char *id, MoatSeverity severity)
{
  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (severity < self->min_severity)
    return FALSE;
  if (self->patterns == NULL)
    return TRUE;
  for (guint i = 0; self->patterns[i] != NULL; i++)
    if (moat_threat_id_matches (id, self->patterns[i]))
      return TRUE;
  return FALSE;
}

/**
 * moat_remediation_update:
 * @items: (element-type MoatHealthItem): every current health item
 * @now: the time (µs since the Unix epoch)
 *
 * Records what @items say and decides which problems to remind of now.
 * Each returned item counts as reminded of at @now.
 *
 * Returns: (transfer full) (element-type MoatHealthItem): copies of the
 *   items due for a reminder, in the order of @items; often empty
 */
GPtrArray *
moat_remediation_update (MoatRemediation *self, GPtrArray *items, gint64 now)
{
  g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);
  g_autoptr(GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean changed = FALSE;
  GHashTableIter iter;
  Problem *p;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), NULL);
  g_return_val_if_fail (items != NULL, NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const MoatHealthItem *item = g_ptr_array_index (items, i);
      g_autofree char *key = NULL;

      if (item == NULL || item->id == NULL)
        continue;
      key = make_key (item->id, item->subject);
      if (!g_hash_table_add (done, g_strdup (key)))
        continue;

      p = g_hash_table_lookup (self->problems, key);
      if (item->status == MOAT_HEALTH_OK)
        {
          /* Fixed: forget it; it starts over if it comes back. */
          changed |= g_hash_table_remove (self->problems, key);
          continue;
        }

      if (p == NULL)
        {
          if (item->status != MOAT_HEALTH_PROBLEM)
            continue;
          if (g_hash_table_size (self->problems) >= MOAT_REMEDIATION_MAX_PROBLEMS)
            {
              g_warning ("More than %d health problems: not tracking %s",
                         MOAT_REMEDIATION_MAX_PROBLEMS, item->id);
              continue;
            }
          p = g_new0 (Problem, 1);
          p->id = g_strdup (item->id);
          p->subject = g_strdup (item->subject != NULL ? item->subject : "");
          p->first_seen = now;
          p->last_seen = now;
          g_hash_table_insert (self->problems, g_steal_pointer (&key), p);
          changed = TRUE;
        }

      /* The clock went back: count from now rather than wait for the past. */
      if (p->first_seen > now || p->last_reminded > now)
        {
          p->first_seen = MIN (p->first_seen, now);
          p->last_reminded = MIN (p->last_reminded, now);
          changed = TRUE;
        }
      /* last_seen only decides when to forget: save it about once a day. */
      if (now - p->last_seen >= G_TIME_SPAN_DAY || p->last_seen > now)
        changed = TRUE;
      p->last_seen = now;

      p->alerting = item->status == MOAT_HEALTH_PROBLEM &&
                    moat_remediation_is_alerting (self, item->id, item->severity);
      if (p->alerting && now >= due_at (self, p))
        {
          if (p->count < MAX_COUNT)
            p->count++;
          p->last_reminded = now;
          changed = TRUE;
          g_ptr_array_add (due, moat_health_item_copy (item));
        }
    }

  /* Problems no update has listed for a long time (a phone that is gone). */
  g_hash_table_iter_init (&iter, self->problems);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (now - p->last_seen >= MOAT_REMEDIATION_FORGET_AFTER)
      {
        g_hash_table_iter_remove (&iter);
        changed = TRUE;
      }

  if (changed)
    emit_changed (self);
  return g_steal_pointer (&due);
}

/**
 * moat_remediation_snooze:
 * @id: a check with a problem
 * @subject: its subject
 * @until: no reminder before this time (µs since the Unix epoch); 0 to stop
 *   snoozing
 *
 * A snooze lasts until @until or until the problem is fixed.
 *
 * Returns: FALSE when there is no such problem
 */
gboolean
moat_remediation_snooze (MoatRemediation *self, const char *id, const char *subject, gint64 until)
{
  g_autofree char *key = NULL;
  Problem *p;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  key = make_key (id, subject);
  p = g_hash_table_lookup (self->problems, key);
  if (p == NULL)
    return FALSE;
  p->snoozed_until = CLAMP (until, 0, MAX_TIME);
  emit_changed (self);
  return TRUE;
}

/**
 * moat_remediation_next_due:
 *
 * When to call moat_remediation_update() next (besides when the health
 * items change): the earliest time a problem the last update listed is due.
 * It may lie in the past after a snooze was lifted.
 *
 * Returns: µs since the Unix epoch, or G_MAXINT64 when nothing is due ever
 */
gint64
moat_remediation_next_due (MoatRemediation *self)
{
  GHashTableIter iter;
  Problem *p;
  gint64 next = G_MAXINT64;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), G_MAXINT64);

  g_hash_table_iter_init (&iter, self->problems);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (p->alerting)
      next = MIN (next, due_at (self, p));
  return next;
}

guint
moat_remediation_get_n_problems (MoatRemediation *self)
{
  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), 0);
  return g_hash_table_size (self->problems);
}

/**
 * moat_remediation_lookup:
 * @first_seen: (out) (optional):
 * @last_reminded: (out) (optional): 0 when never
 * @count: (out) (optional): reminders so far
 * @snoozed_until: (out) (optional): 0 when not snoozed
 *
 * Returns: FALSE when the problem is not tracked (fixed, or never seen)
 */
gboolean
moat_remediation_lookup (MoatRemediation *self, const char *id, const char *subject,
                         gint64 *first_seen, gint64 *last_reminded, guint *count,
                         gint64 *snoozed_until)
{
  g_autofree char *key = NULL;
  Problem *p;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  key = make_key (id, subject);
  p = g_hash_table_lookup (self->problems, key);
  if (p == NULL)
    return FALSE;
  if (first_seen != NULL)
    *first_seen = p->first_seen;
  if (last_reminded != NULL)
    *last_reminded = p->last_reminded;
  if (count != NULL)
    *count = p->count;
  if (snoozed_until != NULL)
    *snoozed_until = p->snoozed_until;
  return TRUE;
}

/**
 * moat_remediation_load:
 * @json: a state moat_remediation_save() wrote
 * @length: its length, or -1
 *
 * Replaces the problems with those of @json. Refuses a state with any
 * fault whole (MOAT_ERROR_INVALID_ARGUMENT), keeping the current one.
 * Members it does not know are ignored.
 */
gboolean
moat_remediation_load (MoatRemediation *self, const char *json, gssize length, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GHashTable) problems = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonNode *node;
  JsonArray *array;
  gint64 version;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length < 0)
    length = strlen (json);
  if (memchr (json, '\0', length) != NULL || !g_utf8_validate (json, length, NULL))
    return state_fail (error, G_MAXUINT, "not UTF-8 text");
  if (!nesting_ok (json, length, 8))
    return state_fail (error, G_MAXUINT, "nested too deeply");
  if (!json_parser_load_from_data (parser, json, length, &local_error))
    return state_fail (error, G_MAXUINT, "%s", local_error->message);
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return state_fail (error, G_MAXUINT, "not a JSON object");
  root = json_node_get_object (node);
  if (!get_int_member (root, "version", G_MAXINT, G_MAXUINT, &version, error))
    return FALSE;
  if (version != STATE_VERSION)
    return state_fail (error, G_MAXUINT, "version %" G_GINT64_FORMAT " is not %d", version,
                       STATE_VERSION);
  node = json_object_get_member (root, "problems");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return state_fail (error, G_MAXUINT, "“problems” is not an array");
  array = json_node_get_array (node);
  if (json_array_get_length (array) > MOAT_REMEDIATION_MAX_PROBLEMS)
    return state_fail (error, G_MAXUINT, "more than %d problems",
                       MOAT_REMEDIATION_MAX_PROBLEMS);

  problems = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, problem_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr(Problem) p = problem_from_json (json_array_get_element (array, i), i, error);
      g_autofree char *key = NULL;

      if (p == NULL)
        return FALSE;
      key = make_key (p->id, p->subject);
      if (g_hash_table_contains (problems, key))
        return state_fail (error, i, "listed twice");
      g_hash_table_insert (problems, g_steal_pointer (&key), g_steal_pointer (&p));
    }

  g_hash_table_unref (self->problems);
  self->problems = g_steal_pointer (&problems);
  emit_changed (self);
  return TRUE;
}

/**
 * moat_remediation_save:
 *
 * Returns: (transfer full): the problems' state as JSON, for
 *   moat_remediation_load()
 */
char *
moat_remediation_save (MoatRemediation *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) keys = NULL;

  g_return_val_if_fail (MOAT_IS_REMEDIATION (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, STATE_VERSION);
  json_builder_set_member_name (builder, "problems");
  json_builder_begin_array (builder);
  /* Sorted, so the same state saves to the same text. */
  keys = g_list_sort (g_hash_table_get_keys (self->problems), (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const Problem *p = g_hash_table_lookup (self->problems, l->data);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, p->id);
      json_builder_set_member_name (builder, "subject");
      json_builder_add_string_value (builder, p->subject);
      json_builder_set_member_name (builder, "first_seen");
      json_builder_add_int_value (builder, p->first_seen);
      json_builder_set_member_name (builder, "last_seen");
      json_builder_add_int_value (builder, p->last_seen);
      json_builder_set_member_name (builder, "last_reminded");
      json_builder_add_int_value (builder, p->last_reminded);
      json_builder_set_member_name (builder, "count");
      json_builder_add_int_value (builder, p->count);
      json_builder_set_member_name (builder, "snoozed_until");
      json_builder_add_int_value (builder, p->snoozed_until);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}
