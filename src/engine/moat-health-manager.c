/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-health-manager.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "moat-computer-health.h"
#include "moat-device-manager.h"
#include "moat-engine.h"
#include "moat-error.h"
#include "moat-lists.h"
#include "moat-nm-network.h"
#include "moat-policy-manager.h"
#include "moat-remediation.h"
#include "moat-smtp.h"

/* The proxy must block this phishing test site (OpenDNS's): the probe asks
 * for it through the proxy, which answers with its block page and never
 * contacts the site. */
#define PROBE_HOST "internetbadguys.com"
#define PROBE_TIMEOUT_S 5
/* A subscription not refreshed for this long is stale. */
#define LIST_STALE_DAYS 14
/* Free space under the data folder. */
#define DISK_LOW (200 * 1024 * 1024)
#define DISK_VERY_LOW (50 * 1024 * 1024)
#define APP_NOTIFICATIONS_PATH "/org/gnome/desktop/notifications/application/io-github-moatproject-moat/"

struct _MoatHealthManager
{
  GObject       parent_instance;

  MoatEngine   *engine;          /* not owned: it owns us */
  GCancellable *cancellable;
  GHashTable   *items;           /* "id\037subject" -> MoatHealthItem */
  GHashTable   *snoozed;         /* "id\037subject" -> gint64 * */
  guint         timer_id;
  gboolean      checking;
  guint         pending;         /* parts of a check still running */
  GPtrArray    *round;           /* MoatHealthItem found by this check */
  GPtrArray    *waiters;         /* GTask of check_async */
  guint         level;
  char         *summary;
  gboolean      stopped;
  GDBusConnection *system_bus;   /* nullable: PackageKit, fwupd, firewalld */
  char         *root;            /* where this computer's files are read */
  GVariant     *screen_lock_before; /* what the screen-lock fix changed */
  MoatRemediation *reminders;    /* notifications about open problems */
  MoatRemediation *emails;       /* nullable: the policy's email alerts */
  char         *email_to;
  char         *state_path;
  gboolean      state_loaded;
  gboolean      saving;
  gboolean      save_again;
  guint         due_id;
};

#define REMEDIATION_STATE_FILENAME "health-reminders.json"

G_DEFINE_FINAL_TYPE (MoatHealthManager, moat_health_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LEVEL,
  PROP_SUMMARY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *
item_key (const char *id, const char *subject)
{
  return g_strconcat (id, "\037", subject != NULL ? subject : "", NULL);
}

static MoatHealthItem *
item (const char       *id,
      MoatHealthStatus  status,
      MoatSeverity      severity,
      const char       *title,
      const char       *summary)
{
  MoatHealthItem *it = moat_health_item_new (id, "moat", "", status, severity);

  g_free (it->title);
  it->title = g_strdup (title);
  g_free (it->summary);
  it->summary = g_strdup (summary);
  return it;
}

static void
set_text (MoatHealthItem *it,
          const char     *why,
          const char     *impact,
          const char     *steps)
{
  g_free (it->why);
  it->why = g_strdup (why);
  g_free (it->impact);
  it->impact = g_strdup (impact);
  g_strfreev (it->steps);
  it->steps = it->status == MOAT_HEALTH_OK || steps == NULL ? g_new0 (char *, 1)
                                                            : g_strsplit (steps, "\n", -1);
}

static void
evidence_kv (MoatHealthItem *it,
             const char     *first_name,
             ...)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  va_list args;
  const char *name;

  json_builder_begin_object (b);
  va_start (args, first_name);
  for (name = first_name; name != NULL; name = va_arg (args, const char *))
    {
      const char *value = va_arg (args, const char *);

      json_builder_set_member_name (b, name);
      if (value != NULL)
        json_builder_add_string_value (b, value);
      else
        json_builder_add_null_value (b);
    }
  va_end (args);
  json_builder_end_object (b);
  moat_health_item_set_evidence (it, b);
}

/* ---- level ---- */

/**
 * moat_health_compute_level:
 * @protecting: Moat's filter runs and this computer's traffic goes through it
 *
 * 0: nothing protects (the filter is off or not in effect); 1: protecting,
 * with a high or critical problem; 2: a medium problem; 3: only low
 * problems or checks that could not tell; 4: every check healthy.
 */
guint
moat_health_compute_level (GPtrArray  *items,
                           gboolean    protecting,
                           char      **out_summary)
{
  MoatSeverity worst = MOAT_SEVERITY_INFO;
  guint problems = 0, unknown = 0;
  guint level;

  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      const MoatHealthItem *it = g_ptr_array_index (items, i);

      if (it->status == MOAT_HEALTH_PROBLEM)
        {
          problems++;
          worst = MAX (worst, it->severity);
        }
      else if (it->status == MOAT_HEALTH_UNKNOWN)
        unknown++;
    }
  if (!protecting)
    level = 0;
  else if (worst >= MOAT_SEVERITY_HIGH)
    level = 1;
  else if (worst == MOAT_SEVERITY_MEDIUM)
    level = 2;
  else if (problems > 0 || unknown > 0)
    level = 3;
  else
    level = 4;
  if (out_summary != NULL)
    {
      if (level == 0)
        *out_summary = g_strdup (_("Moat is not protecting this computer yet."));
      else if (problems == 0 && unknown == 0)
        *out_summary = g_strdup (_("Everything Moat checks is healthy."));
      else if (problems == 0)
        *out_summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "No problems, but %u check could not tell.",
                                                     "No problems, but %u checks could not tell.",
                                                     unknown), unknown);
      else
        *out_summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "%u problem needs your attention.",
                                                     "%u problems need your attention.",
                                                     problems), problems);
    }
  return level;
}

static int
compare_items (gconstpointer a, gconstpointer b)
{
  const MoatHealthItem *x = *(const MoatHealthItem **) a;
  const MoatHealthItem *y = *(const MoatHealthItem **) b;
  static const int rank[] = { [MOAT_HEALTH_PROBLEM] = 0, [MOAT_HEALTH_UNKNOWN] = 1,
                              [MOAT_HEALTH_OK] = 2 };
  int c;

  if (rank[x->status] != rank[y->status])
    return rank[x->status] - rank[y->status];
  if (x->severity != y->severity)
    return (int) y->severity - (int) x->severity;
  c = g_strcmp0 (x->area, y->area);
  if (c != 0)
    return c;
  c = g_strcmp0 (x->subject, y->subject);
  return c != 0 ? c : g_strcmp0 (x->id, y->id);
}

/**
 * moat_health_manager_get_items:
 *
 * Returns: (transfer container) (element-type MoatHealthItem): the latest
 *   results, problems first, the worst first
 */
GPtrArray *
moat_health_manager_get_items (MoatHealthManager *self)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (MOAT_IS_HEALTH_MANAGER (self), out);

  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, value);
  g_ptr_array_sort (out, compare_items);
  return out;
}

guint
moat_health_manager_get_level (MoatHealthManager *self)
{
  g_return_val_if_fail (MOAT_IS_HEALTH_MANAGER (self), 0);
  return self->level;
}

const char *
moat_health_manager_get_summary (MoatHealthManager *self)
{
  g_return_val_if_fail (MOAT_IS_HEALTH_MANAGER (self), "");
  return self->summary;
}

static void
record (MoatHealthManager    *self,
        const MoatHealthItem *it,
        const char           *action,
        const char           *summary)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MoatEvent) event = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *subject = it->subject[0] != '\0'
                             ? g_strdup_printf ("%s %s", it->id, it->subject)
                             : g_strdup (it->id);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "check");
  json_builder_add_string_value (b, it->id);
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, it->title);
  json_builder_set_member_name (b, "summary");
  json_builder_add_string_value (b, summary != NULL ? summary : it->summary);
  if (it->evidence != NULL && json_parser_load_from_data (parser, it->evidence, -1, NULL))
    {
      json_builder_set_member_name (b, "evidence");
      json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  detail = json_generator_to_data (generator, NULL);
  event = moat_event_new (MOAT_EVENT_SOURCE_HEALTH, "moat.health_problem",
                          g_str_equal (action, "detected") ? it->severity : MOAT_SEVERITY_INFO,
                          subject, action, detail);
  /* Reminders notify, on their cadence: the event itself is quiet. */
  if (!moat_engine_record_event_quietly (self->engine, event, &error))
    g_warning ("Could not record a health event: %s", error->message);
}

static void remind (MoatHealthManager *self);

/* Replaces the items of @area (and @subject, when not NULL) with @items,
 * recording problems that appeared and went. */
static void
replace_items (MoatHealthManager *self,
               const char        *area,
               const char        *subject,
               GPtrArray         *items)
{
  g_autoptr(GHashTable) fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;
  gboolean any = FALSE;
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *summary = NULL;
  guint level;

  for (guint i = 0; i < items->len; i++)
    {
      MoatHealthItem *it = g_ptr_array_index (items, i);
      g_autofree char *k = item_key (it->id, it->subject);
      MoatHealthItem *old = g_hash_table_lookup (self->items, k);

      if (old == NULL || old->status != it->status || old->severity != it->severity ||
          g_strcmp0 (old->summary, it->summary) != 0)
        any = TRUE;
      if (it->status == MOAT_HEALTH_PROBLEM &&
          (old == NULL || old->status != MOAT_HEALTH_PROBLEM || old->severity != it->severity))
        record (self, it, "detected", NULL);
      else if (it->status == MOAT_HEALTH_OK && old != NULL && old->status == MOAT_HEALTH_PROBLEM)
        record (self, it, "cleared", NULL);
      g_hash_table_add (fresh, g_strdup (k));
      g_hash_table_replace (self->items, g_strdup (k), moat_health_item_copy (it));
    }
  /* What is no longer checked (a phone gone) goes, without an event. */
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      MoatHealthItem *it = value;

      if (g_str_equal (it->area, area) && (subject == NULL || g_str_equal (it->subject, subject)) &&
          !g_hash_table_contains (fresh, key))
        {
          g_hash_table_iter_remove (&iter);
          any = TRUE;
        }
    }

  all = moat_health_manager_get_items (self);
  level = moat_health_compute_level (all, moat_engine_get_protection_state (self->engine) !=
                                          MOAT_PROTECTION_STATE_UNPROTECTED, &summary);
  if (level != self->level)
    {
      self->level = level;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
    }
  if (g_strcmp0 (summary, self->summary) != 0)
    {
      g_free (self->summary);
      self->summary = g_steal_pointer (&summary);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
    }
  if (any)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  remind (self);
}

/* ---- reminders and email alerts ---- */

static void save_state (MoatHealthManager *self);

static void
state_saved_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;

  self->saving = FALSE;
  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    g_warning ("Could not save %s: %s", self->state_path, error->message);
  if (self->save_again)
    {
      self->save_again = FALSE;
      save_state (self);
    }
}

/* The reminders' state, off the main loop; one write at a time. */
static void
save_state (MoatHealthManager *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *reminders = NULL;
  g_autofree char *emails = NULL;
  char *text;

  if (!self->state_loaded || self->stopped)
    return;
  if (self->saving)
    {
      self->save_again = TRUE;
      return;
    }
  reminders = moat_remediation_save (self->reminders);
  emails = self->emails != NULL ? moat_remediation_save (self->emails) : g_strdup ("null");
  text = g_strdup_printf ("{\"reminders\": %s, \"emails\": %s}\n", reminders, emails);
  bytes = g_bytes_new_take (text, strlen (text));
  file = g_file_new_for_path (self->state_path);
  self->saving = TRUE;
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       NULL, state_saved_cb, g_object_ref (self));
}

static void
on_remediation_changed_cb (MoatRemediation   *remediation,
                           MoatHealthManager *self)
{
  save_state (self);
}

static void
email_sent_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_smtp_send_finish (result, &error))
    g_warning ("Could not send the health alert to %s: %s", self->email_to, error->message);
  else
    g_info ("Sent a health alert to %s", self->email_to);
}

typedef struct {
  MoatHealthManager *self;
  MoatSmtpOptions   *options;
  char              *subject;
  char              *body;
} EmailJob;

static void
email_job_free (EmailJob *job)
{
  g_object_unref (job->self);
  moat_smtp_options_free (job->options);
  g_free (job->subject);
  g_free (job->body);
  g_free (job);
}

static void
password_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  EmailJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = moat_smtp_lookup_password_finish (result, &error);

  /* No password stored: the server may not need one. */
  if (password != NULL)
    {
      g_free (job->options->password);
      job->options->password = g_steal_pointer (&password);
    }
  moat_smtp_send_async (job->options, job->self->email_to, job->subject, job->body,
                        job->self->cancellable, email_sent_cb, g_object_ref (job->self));
  email_job_free (job);
}

static void
send_email (MoatHealthManager *self,
            GPtrArray         *due)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  EmailJob *job;
  MoatSmtpOptions *options;

  options = moat_smtp_options_new_from_settings (moat_engine_get_settings (self->engine), &error);
  if (options == NULL)
    {
      g_warning ("The policy asks for health alerts by email, but: %s", error->message);
      return;
    }
  g_string_append (body, _("Moat found problems with this computer’s protection that are not "
                           "fixed yet:\n\n"));
  for (guint i = 0; i < due->len; i++)
    {
      const MoatHealthItem *it = g_ptr_array_index (due, i);

      g_string_append_printf (body, "* %s%s%s (%s): %s\n", it->title,
                              it->subject[0] != '\0' ? " · " : "", it->subject,
                              moat_severity_to_string (it->severity), it->summary);
      for (guint s = 0; it->steps != NULL && it->steps[s] != NULL; s++)
        g_string_append_printf (body, "    %u. %s\n", s + 1, it->steps[s]);
      g_string_append_c (body, '\n');
    }
  g_string_append_printf (body, _("Host: %s\nSent by Moat %s.\n"), g_get_host_name (),
                          PACKAGE_VERSION);
  job = g_new0 (EmailJob, 1);
  job->self = g_object_ref (self);
  job->options = options;
  job->subject = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Moat on %s: %u protection problem",
                                               "Moat on %s: %u protection problems", due->len),
                                  g_get_host_name (), due->len);
  job->body = g_string_free (g_steal_pointer (&body), FALSE);
  if (options->username != NULL && options->username[0] != '\0')
    moat_smtp_lookup_password_async (options->host, options->username, self->cancellable,
                                     password_cb, job);
  else
    {
      moat_smtp_send_async (job->options, self->email_to, job->subject, job->body,
                            self->cancellable, email_sent_cb, g_object_ref (self));
      email_job_free (job);
    }
}

static gboolean
due_cb (gpointer user_data)
{
  MoatHealthManager *self = user_data;

  self->due_id = 0;
  remind (self);
  return G_SOURCE_REMOVE;
}

/* Applies the policy's cadence and alert settings. */
static void
apply_policy (MoatHealthManager *self)
{
  MoatPolicy *policy = moat_policy_manager_get_policy (moat_engine_get_policy_manager (self->engine));
  const MoatPolicyCadence *cadence = moat_policy_get_remind (policy);
  const char *email = moat_policy_get_email (policy);

  moat_remediation_set_cadence (self->reminders, cadence->intervals, cadence->n_intervals,
                                cadence->repeat);
  moat_remediation_set_alerting (self->reminders, moat_policy_get_remind_checks (policy),
                                 moat_policy_get_remind_severity (policy));
  g_free (self->email_to);
  self->email_to = g_strdup (email);
  if (email == NULL || email[0] == '\0')
    g_clear_object (&self->emails);
  else
    {
      if (self->emails == NULL)
        {
          self->emails = moat_remediation_new ();
          g_signal_connect_object (self->emails, "changed",
                                   G_CALLBACK (on_remediation_changed_cb), self, 0);
        }
      moat_remediation_set_cadence (self->emails, cadence->intervals, cadence->n_intervals,
                                    cadence->repeat);
      moat_remediation_set_alerting (self->emails, moat_policy_get_email_checks (policy),
                                     moat_policy_get_email_severity (policy));
    }
}

/* Notifies (and mails) the problems that are due, then sleeps until the
 * next one is. */
static void
remind (MoatHealthManager *self)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GPtrArray) due = NULL;
  gint64 now = g_get_real_time ();
  gint64 next;

  if (!self->state_loaded || self->stopped)
    return;
  items = moat_health_manager_get_items (self);
  due = moat_remediation_update (self->reminders, items, now);
  if (due->len == 1)
    {
      const MoatHealthItem *it = g_ptr_array_index (due, 0);
      g_autofree char *body = g_strdup_printf (_("%s Open Moat’s Health page for the steps "
                                                 "that fix it."), it->summary);

      moat_engine_notify (self->engine, it->title, body, it->severity);
    }
  else if (due->len > 1)
    {
      MoatSeverity worst = MOAT_SEVERITY_INFO;
      g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u protection problem to fix",
                                                             "%u protection problems to fix",
                                                             due->len), due->len);
      g_autoptr(GString) body = g_string_new (NULL);

      for (guint i = 0; i < due->len; i++)
        {
          const MoatHealthItem *it = g_ptr_array_index (due, i);

          worst = MAX (worst, it->severity);
          g_string_append_printf (body, "%s%s", i > 0 ? ", " : "", it->title);
        }
      g_string_append (body, _(". Open Moat’s Health page for the steps."));
      moat_engine_notify (self->engine, title, body->str, worst);
    }
  if (self->emails != NULL)
    {
      g_autoptr(GPtrArray) mail = moat_remediation_update (self->emails, items, now);

      if (mail->len > 0)
        send_email (self, mail);
    }
  next = moat_remediation_next_due (self->reminders);
  if (self->emails != NULL)
    next = MIN (next, moat_remediation_next_due (self->emails));
  g_clear_handle_id (&self->due_id, g_source_remove);
  if (next != G_MAXINT64)
    self->due_id = g_timeout_add_seconds ((guint) CLAMP ((next - now) / G_USEC_PER_SEC + 1, 1,
                                                         G_MAXINT32),
                                          due_cb, self);
}

static void
state_loaded_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (json_parser_load_from_data (parser, contents, length, &error) &&
          (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *o = json_node_get_object (root);
          JsonNode *r = json_object_get_member (o, "reminders");
          JsonNode *e = json_object_get_member (o, "emails");
          g_autoptr(JsonGenerator) gen = json_generator_new ();

          if (r != NULL)
            {
              g_autofree char *text = NULL;

              json_generator_set_root (gen, r);
              text = json_generator_to_data (gen, NULL);
              if (!moat_remediation_load (self->reminders, text, strlen (text), &error))
                g_warning ("%s: %s", self->state_path, error->message);
              g_clear_error (&error);
            }
          if (e != NULL && self->emails != NULL && !JSON_NODE_HOLDS_NULL (e))
            {
              g_autofree char *text = NULL;

              json_generator_set_root (gen, e);
              text = json_generator_to_data (gen, NULL);
              if (!moat_remediation_load (self->emails, text, strlen (text), &error))
                g_warning ("%s: %s", self->state_path, error->message);
            }
        }
      else
        g_warning ("%s is not valid: %s", self->state_path,
                   error != NULL ? error->message : "not an object");
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
           !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not read %s: %s", self->state_path, error->message);
  self->state_loaded = TRUE;
  remind (self);
}

static void
on_policy_changed_cb (gpointer           object,
                      MoatHealthManager *self)
{
  apply_policy (self);
  remind (self);
}

/* ---- Moat's own checks ---- */

static MoatHealthItem *
check_protection_state (MoatHealthManager *self,
                        const char        *probe_status)
{
  MoatProtectionState state = moat_engine_get_protection_state (self->engine);
  const char *address = moat_engine_get_proxy_address (self->engine);
  gboolean on = moat_engine_get_protect_computer (self->engine);
  MoatHealthItem *it;

  if (address == NULL || address[0] == '\0')
    {
      it = item ("moat.protection", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_CRITICAL,
                 _("Moat’s filter"), _("Moat’s filtering proxy is not running."));
      set_text (it, _("The filter is what blocks phishing, malware and command-and-control "
                      "sites for this computer and for phones routed through it."),
                _("Nothing is filtered: a phishing link opens like any other."),
                _("Open Moat and check the message on the Overview.\n"
                  "Restart Moat: log out and in again, or run “systemctl --user restart "
                  "moatd”."));
    }
  else if (!on || state == MOAT_PROTECTION_STATE_UNPROTECTED)
    {
      it = item ("moat.protection", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH,
                 _("Moat’s filter"),
                 _("This computer’s web traffic does not go through Moat’s filter."));
      set_text (it, _("The filter only protects traffic that goes through it: the desktop’s "
                      "proxy settings must point at Moat."),
                _("Browsers and apps reach phishing and malware sites unfiltered."),
                _("Turn on “Protect This Computer” on Moat’s Overview, or let Moat do it."));
      it->auto_fix = TRUE;
    }
  else if (probe_status == NULL || !g_str_has_prefix (probe_status, "HTTP/1.1 403"))
    {
      g_autofree char *summary =
        g_strdup_printf (_("The filter did not block the phishing test site %s (%s)."),
                         PROBE_HOST, probe_status != NULL ? probe_status : _("no answer"));

      it = item ("moat.protection", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH,
                 _("Moat’s filter"), summary);
      set_text (it, _("Moat checks its own filter with a known phishing test site: it must "
                      "be blocked."),
                _("Known phishing and malware sites may open unfiltered."),
                _("Open Lists in Moat and make sure the phishing and malware categories are "
                  "on.\nUpdate the lists, then check again."));
    }
  else
    {
      it = item ("moat.protection", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("Moat’s filter"),
                 _("This computer’s traffic goes through Moat’s filter, and it blocks a "
                   "phishing test site."));
      set_text (it, _("The filter is what blocks phishing, malware and command-and-control "
                      "sites."), "", NULL);
    }
  evidence_kv (it, "proxy_address", address, "protect_computer", on ? "on" : "off",
               "protection_state", moat_protection_state_to_string (state),
               "probe", probe_status, NULL);
  return it;
}

static MoatHealthItem *
check_lists (MoatHealthManager *self)
{
  g_autoptr(GPtrArray) infos = moat_lists_dup_infos (moat_engine_get_lists (self->engine));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GString) broken = g_string_new (NULL);
  g_autoptr(GString) stale = g_string_new (NULL);
  gint64 now = g_get_real_time ();
  guint used = 0;
  MoatHealthItem *it;

  json_builder_begin_array (b);
  for (guint i = 0; i < infos->len; i++)
    {
      const MoatListInfo *info = g_ptr_array_index (infos, i);
      gint64 age_days = info->updated > 0 ? (now - info->updated) / G_USEC_PER_SEC / 86400 : -1;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, info->id);
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, info->enabled);
      json_builder_set_member_name (b, "loaded");
      json_builder_add_boolean_value (b, info->loaded);
      json_builder_set_member_name (b, "rules");
      json_builder_add_int_value (b, info->n_rules);
      json_builder_set_member_name (b, "age_days");
      json_builder_add_int_value (b, age_days);
      json_builder_set_member_name (b, "error");
      if (info->error != NULL)
        json_builder_add_string_value (b, info->error);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      if (!info->enabled)
        continue;
      used++;
      if (!info->loaded || info->error != NULL)
        g_string_append_printf (broken, "%s%s", broken->len > 0 ? ", " : "", info->name);
      else if (info->kind == MOAT_LIST_KIND_SUBSCRIPTION && age_days > LIST_STALE_DAYS)
        g_string_append_printf (stale, "%s%s", stale->len > 0 ? ", " : "", info->name);
    }
  json_builder_end_array (b);

  if (used == 0)
    {
      it = item ("moat.lists", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH, _("Filter lists"),
                 _("No filter list is in use."));
      set_text (it, _("The lists say which sites are dangerous."),
                _("The filter blocks nothing."),
                _("Open Lists in Moat and turn on the malware, phishing and c2 categories."));
    }
  else if (broken->len > 0)
    {
      g_autofree char *summary = g_strdup_printf (_("These lists could not be read: %s."),
                                                  broken->str);

      it = item ("moat.lists", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM, _("Filter lists"),
                 summary);
      set_text (it, _("A list that cannot be read blocks nothing."),
                _("Sites only those lists name are not blocked."),
                _("Open Lists in Moat: each list says why it could not be read.\n"
                  "Update the lists, or remove a list that is gone."));
      it->auto_fix = TRUE;
    }
  else if (stale->len > 0)
    {
      g_autofree char *summary = g_strdup_printf (_("These lists were not updated for more "
                                                    "than %u days: %s."), LIST_STALE_DAYS,
                                                  stale->str);

      it = item ("moat.lists", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_LOW, _("Filter lists"),
                 summary);
      set_text (it, _("New phishing and malware sites appear every day; old lists miss "
                      "them."),
                _("Recent phishing and malware sites are not blocked."),
                _("Let Moat update the lists now, and check that this computer can reach "
                  "the lists’ addresses."));
      it->auto_fix = TRUE;
    }
  else
    {
      g_autofree char *summary =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u list is in use and up to date.",
                                      "%u lists are in use and up to date.", used), used);

      it = item ("moat.lists", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("Filter lists"), summary);
      set_text (it, _("The lists say which sites are dangerous."), "", NULL);
    }
  {
    g_autoptr(JsonBuilder) e = json_builder_new ();
    g_autoptr(JsonNode) lists = json_builder_get_root (b);

    json_builder_begin_object (e);
    json_builder_set_member_name (e, "lists");
    json_builder_add_value (e, g_steal_pointer (&lists));
    json_builder_end_object (e);
    moat_health_item_set_evidence (it, e);
  }
  return it;
}

static MoatHealthItem *
check_vpn (MoatHealthManager *self)
{
  MoatPolicy *policy = moat_policy_manager_get_policy (moat_engine_get_policy_manager (self->engine));
  const char *name = moat_policy_get_vpn (policy);
  MoatNetwork *network = moat_engine_get_network (self->engine);
  g_autofree char *type = NULL;
  MoatVpnCheck check;
  MoatHealthItem *it;

  if (name == NULL || name[0] == '\0')
    {
      it = item ("moat.vpn", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("VPN for unsafe networks"),
                 _("The policy names no VPN to use on unsafe networks."));
      set_text (it, _("On an unsafe network the policy can send traffic through a VPN."), "",
                NULL);
      evidence_kv (it, "vpn", NULL, NULL);
      return it;
    }
  check = MOAT_IS_NM_NETWORK (network) ? moat_nm_network_check_vpn (MOAT_NM_NETWORK (network),
                                                                    name, &type)
                                       : MOAT_VPN_CHECK_NO_NM;
  switch (check)
    {
    case MOAT_VPN_CHECK_NO_NM:
      it = item ("moat.vpn", MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM,
                 _("VPN for unsafe networks"),
                 _("NetworkManager is not running, so Moat cannot tell whether the policy’s "
                   "VPN is set up."));
      break;
    case MOAT_VPN_CHECK_MISSING:
      {
        g_autofree char *summary = g_strdup_printf (_("The policy’s VPN “%s” is not set up on "
                                                      "this computer."), name);

        it = item ("moat.vpn", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH,
                   _("VPN for unsafe networks"), summary);
      }
      break;
    case MOAT_VPN_CHECK_ASKS_PASSWORD:
      {
        g_autofree char *summary = g_strdup_printf (_("The VPN “%s” asks for its password each "
                                                      "time, so Moat cannot bring it up alone."),
                                                    name);

        it = item ("moat.vpn", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM,
                   _("VPN for unsafe networks"), summary);
      }
      break;
    case MOAT_VPN_CHECK_OK:
    default:
      {
        g_autofree char *summary = g_strdup_printf (_("The policy’s VPN “%s” is set up."), name);

        it = item ("moat.vpn", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("VPN for unsafe networks"),
                   summary);
      }
      break;
    }
  set_text (it, _("On an unsafe network the policy sends company traffic through this VPN."),
            _("On an attacked network, company traffic is walled off instead, or exposed."),
            check == MOAT_VPN_CHECK_ASKS_PASSWORD
            ? _("Open Settings › Network, open the VPN’s settings and choose to store its "
                "password for this user.")
            : _("Ask the helpdesk for the VPN’s settings file.\n"
                "Open Settings › Network › VPN › + and import it, with the name the policy "
                "gives."));
  evidence_kv (it, "vpn", name, "type", type, NULL);
  return it;
}

static MoatHealthItem *
check_notifications (MoatHealthManager *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source != NULL
    ? g_settings_schema_source_lookup (source, "org.gnome.desktop.notifications", TRUE) : NULL;
  g_autoptr(GSettingsSchema) app_schema = source != NULL
    ? g_settings_schema_source_lookup (source, "org.gnome.desktop.notifications.application",
                                       TRUE) : NULL;
  g_autoptr(GSettings) global = NULL;
  g_autoptr(GSettings) app = NULL;
  gboolean banners, enabled;
  MoatHealthItem *it;

  if (schema == NULL || app_schema == NULL)
    {
      it = item ("moat.notifications", MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM,
                 _("Notifications"),
                 _("This desktop has no GNOME notification settings Moat can read."));
      set_text (it, _("Moat tells you about threats and problems with notifications."), "",
                NULL);
      return it;
    }
  global = g_settings_new_full (schema, NULL, NULL);
  app = g_settings_new_full (app_schema, NULL, APP_NOTIFICATIONS_PATH);
  banners = g_settings_get_boolean (global, "show-banners");
  enabled = g_settings_get_boolean (app, "enable");
  if (banners && enabled)
    it = item ("moat.notifications", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("Notifications"),
               _("Moat may show notifications."));
  else
    {
      it = item ("moat.notifications", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM,
                 _("Notifications"),
                 enabled ? _("Notification banners are off on this desktop.")
                         : _("Notifications from Moat are turned off."));
      it->auto_fix = TRUE;
    }
  set_text (it, _("Moat tells you about threats and problems with notifications."),
            _("You will not know when Moat finds an attack or a problem."),
            _("Open Settings › Notifications.\n"
              "Turn on Notification Banners, and turn on Moat in the list of apps."));
  evidence_kv (it, "show-banners", banners ? "true" : "false", "moat", enabled ? "on" : "off",
               NULL);
  return it;
}

static MoatHealthItem *
check_store (MoatHealthManager *self,
             guint64            free_bytes,
             const char        *disk_error)
{
  MoatStoreState state = moat_engine_get_store_state (self->engine);
  g_autofree char *free_text = disk_error == NULL ? g_format_size (free_bytes) : NULL;
  MoatHealthItem *it;

  if (state == MOAT_STORE_STATE_ERROR || state == MOAT_STORE_STATE_DISK_FULL)
    {
      it = item ("moat.store", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH, _("Event history"),
                 moat_engine_get_store_message (self->engine));
    }
  else if (disk_error == NULL && free_bytes < DISK_LOW)
    {
      g_autofree char *summary = g_strdup_printf (_("Only %s is free for Moat’s event "
                                                    "history."), free_text);

      it = item ("moat.store", MOAT_HEALTH_PROBLEM,
                 free_bytes < DISK_VERY_LOW ? MOAT_SEVERITY_HIGH : MOAT_SEVERITY_MEDIUM,
                 _("Event history"), summary);
    }
  else if (disk_error != NULL)
    {
      g_autofree char *summary = g_strdup_printf (_("Moat cannot tell how much disk space is "
                                                    "free: %s"), disk_error);

      it = item ("moat.store", MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM, _("Event history"),
                 summary);
    }
  else
    {
      g_autofree char *summary = g_strdup_printf (_("The event history is healthy; %s is "
                                                    "free."), free_text);

      it = item ("moat.store", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("Event history"), summary);
    }
  set_text (it, _("The event history is what Moat, you and the helpdesk look back at."),
            _("New events are kept in memory only, and lost if Moat stops."),
            _("Free some disk space: empty the trash, remove large downloads.\n"
              "Then check again."));
  evidence_kv (it, "store_state", moat_store_state_to_string (state), "free", free_text,
               "error", disk_error, NULL);
  return it;
}

static MoatHealthItem *
service_item (const char *state,
              const char *error)
{
  MoatHealthItem *it;

  if (error != NULL)
    {
      g_autofree char *summary = g_strdup_printf (_("Moat cannot ask the service manager: %s"),
                                                  error);

      it = item ("moat.service", MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM,
                 _("Starts at login"), summary);
    }
  else if (g_strcmp0 (state, "enabled") == 0 || g_strcmp0 (state, "static") == 0 ||
           g_strcmp0 (state, "enabled-runtime") == 0)
    it = item ("moat.service", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO, _("Starts at login"),
               _("Moat’s engine starts when you log in."));
  else
    {
      it = item ("moat.service", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM, _("Starts at login"),
                 _("Moat’s engine does not start when you log in; it only runs once the app "
                   "is opened."));
      it->auto_fix = TRUE;
    }
  set_text (it, _("Moat protects only while its engine runs."),
            _("After a restart nothing is filtered or checked until someone opens Moat."),
            _("Run “systemctl --user enable moatd” in a terminal, or let Moat do it."));
  evidence_kv (it, "unit", "moatd.service", "state", state, "error", error, NULL);
  return it;
}

/* ---- one round of checks ---- */

static void
part_done (MoatHealthManager *self)
{
  g_autoptr(GPtrArray) round = NULL;
  g_autoptr(GPtrArray) waiters = NULL;

  if (--self->pending > 0)
    return;
  round = g_steal_pointer (&self->round);
  self->checking = FALSE;
  replace_items (self, "moat", NULL, round);
  waiters = g_steal_pointer (&self->waiters);
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    g_task_return_boolean (g_ptr_array_index (waiters, i), TRUE);
}

typedef struct {
  MoatHealthManager *self;
  GSocketConnection *connection;
  char               buffer[256];
} Probe;

static void
probe_finish (Probe *probe, const char *status)
{
  MoatHealthManager *self = probe->self;

  if (self->round != NULL)
    g_ptr_array_add (self->round, check_protection_state (self, status));
  g_clear_object (&probe->connection);
  g_free (probe);
  part_done (self);
  g_object_unref (self);
}

static void
probe_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Probe *probe = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  char *eol;

  if (n <= 0)
    {
      probe_finish (probe, NULL);
      return;
    }
  probe->buffer[MIN ((gsize) n, sizeof probe->buffer - 1)] = '\0';
  eol = strpbrk (probe->buffer, "\r\n");
  if (eol != NULL)
    *eol = '\0';
  probe_finish (probe, g_utf8_validate (probe->buffer, -1, NULL) ? probe->buffer : NULL);
}

static void
probe_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Probe *probe = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL))
    {
      probe_finish (probe, NULL);
      return;
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (probe->connection)),
                             probe->buffer, sizeof probe->buffer - 1, G_PRIORITY_DEFAULT,
                             probe->self->cancellable, probe_read_cb, probe);
}

static void
probe_connected_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Probe *probe = user_data;
  static const char request[] = "GET http://" PROBE_HOST "/ HTTP/1.1\r\n"
                                "Host: " PROBE_HOST "\r\n"
                                "User-Agent: Moat health check\r\n"
                                "Connection: close\r\n\r\n";

  probe->connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (object), result,
                                                              NULL);
  if (probe->connection == NULL)
    {
      probe_finish (probe, NULL);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (probe->connection)),
                                   request, strlen (request), G_PRIORITY_DEFAULT,
                                   probe->self->cancellable, probe_written_cb, probe);
}

static void
start_probe (MoatHealthManager *self)
{
  const char *address = moat_engine_get_proxy_address (self->engine);
  g_autoptr(GSocketClient) client = NULL;
  Probe *probe = g_new0 (Probe, 1);

  probe->self = g_object_ref (self);
  self->pending++;
  if (address == NULL || address[0] == '\0' || !moat_engine_get_protect_computer (self->engine))
    {
      probe_finish (probe, NULL);
      return;
    }
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, PROBE_TIMEOUT_S);
  g_socket_client_connect_to_host_async (client, address, 0, self->cancellable,
                                         probe_connected_cb, probe);
}

static void
disk_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_filesystem_info_finish (G_FILE (object), result,
                                                                   &error);

  if (self->round != NULL)
    g_ptr_array_add (self->round,
                     check_store (self, info != NULL
                                  ? g_file_info_get_attribute_uint64 (info,
                                                                      G_FILE_ATTRIBUTE_FILESYSTEM_FREE)
                                  : 0, info == NULL ? error->message : NULL));
  part_done (self);
}

static void
unit_state_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result,
                                                             &error);
  const char *state = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(&s)", &state);
  else
    g_dbus_error_strip_remote_error (error);
  if (self->round != NULL)
    g_ptr_array_add (self->round, service_item (state, reply == NULL ? error->message : NULL));
  part_done (self);
}

static void
start_service_check (MoatHealthManager *self)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);

  self->pending++;
  if (bus == NULL)
    {
      g_ptr_array_add (self->round, service_item (NULL, _("no session bus")));
      part_done (self);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                          "org.freedesktop.systemd1.Manager", "GetUnitFileState",
                          g_variant_new ("(s)", "moatd.service"), G_VARIANT_TYPE ("(s)"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, self->cancellable,
                          unit_state_cb, g_object_ref (self));
}

static void
computer_checked_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = moat_computer_health_check_finish (result, &error);

  if (items == NULL)
    g_debug ("Checking this computer: %s", error->message);
  else if (!self->stopped)
    {
      for (guint i = 0; i < items->len; i++)
        {
          MoatHealthItem *it = g_ptr_array_index (items, i);

          it->auto_fix = it->status == MOAT_HEALTH_PROBLEM &&
                         g_str_equal (it->id, MOAT_COMPUTER_HEALTH_SCREEN_LOCK);
        }
      replace_items (self, "computer", NULL, items);
    }
  part_done (self);
}

static void
start_computer_checks (MoatHealthManager *self)
{
  MoatComputerHealthOptions options = {
    .root = self->root,
    .system_bus = self->system_bus,
  };

  self->pending++;
  moat_computer_health_check_async (&options, self->cancellable, computer_checked_cb,
                                    g_object_ref (self));
}

static void
run_checks (MoatHealthManager *self)
{
  g_autoptr(GFile) dir = NULL;

  if (self->checking || self->stopped)
    return;
  self->checking = TRUE;
  self->round = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);
  /* One part is this function: done at its end. */
  self->pending = 1;
  g_ptr_array_add (self->round, check_lists (self));
  g_ptr_array_add (self->round, check_vpn (self));
  g_ptr_array_add (self->round, check_notifications (self));
  start_probe (self);
  start_service_check (self);
  start_computer_checks (self);
  dir = g_file_new_for_path (moat_engine_get_data_dir (self->engine));
  self->pending++;
  g_file_query_filesystem_info_async (dir, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, G_PRIORITY_DEFAULT,
                                      self->cancellable, disk_cb, g_object_ref (self));
  part_done (self);
}

/* ---- phones ---- */

static const char *
check_title (const char *check)
{
  static const struct {
    const char *check;
    const char *title;
  } titles[] = {
    { "security-patch", N_("Security patch") },
    { "android-version", N_("Android version") },
    { "ios-version", N_("iOS version") },
    { "verified-boot", N_("Verified boot") },
    { "bootloader", N_("Bootloader") },
    { "encryption", N_("Encryption") },
    { "build-type", N_("System build") },
    { "usb-debugging", N_("USB debugging") },
    { "developer-mode", N_("Developer mode") },
    { "unknown-sources", N_("Unknown sources") },
    { "play-protect", N_("Play Protect") },
    { "accessibility", N_("Accessibility services") },
    { "device-admins", N_("Device administrators") },
    { "global-proxy", N_("Global proxy") },
    { "sideloaded-apps", N_("Sideloaded apps") },
    { "su", N_("Root access") },
    { "jailbreak", N_("Jailbreak") },
    { "screen-lock", N_("Screen lock") },
    { "passcode", N_("Passcode") },
    { "permissions", N_("App permissions") },
    { "ioc", N_("Known spyware") },
    { "private-dns", N_("Private DNS") },
    { "always-on-vpn", N_("Always-on VPN") },
    { "vpn", N_("VPN") },
    { "activation", N_("Activation") },
    { "supervision", N_("Supervision") },
    { "profiles", N_("Configuration profiles") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (titles); i++)
    if (g_str_equal (titles[i].check, check))
      return _(titles[i].title);
  return check;
}

static void
on_devices_changed_cb (MoatDeviceManager *devices,
                       MoatHealthManager *self)
{
  g_autoptr(GPtrArray) list = moat_device_manager_get_devices (devices);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);

  for (guint d = 0; d < list->len; d++)
    {
      const MoatDeviceInfo *info = g_ptr_array_index (list, d);
      g_autoptr(GPtrArray) findings = NULL;

      /* A phone that is gone keeps its last results until it is back. */
      if (g_str_equal (info->state, "disconnected"))
        {
          GHashTableIter iter;
          gpointer value;

          g_hash_table_iter_init (&iter, self->items);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            {
              MoatHealthItem *it = value;

              if (g_str_equal (it->area, "phone") && g_str_equal (it->subject, info->serial))
                g_ptr_array_add (items, moat_health_item_copy (it));
            }
          continue;
        }
      findings = moat_device_manager_get_posture (devices, info->serial, NULL);
      for (guint i = 0; findings != NULL && i < findings->len; i++)
        {
          const MoatDeviceFinding *f = g_ptr_array_index (findings, i);
          g_autofree char *name = g_strdelimit (g_strdup (f->check), "-", '_');
          g_autofree char *id = g_strconcat ("phone.", name, NULL);
          MoatHealthStatus status = g_str_equal (f->result, "threat") ? MOAT_HEALTH_PROBLEM
                                    : g_str_equal (f->result, "ok") ? MOAT_HEALTH_OK
                                    : MOAT_HEALTH_UNKNOWN;
          MoatSeverity severity = MOAT_SEVERITY_INFO;
          MoatHealthItem *it;

          moat_severity_from_string (f->severity, &severity);
          it = moat_health_item_new (id, "phone", info->serial, status, severity);
          g_free (it->title);
          it->title = g_strdup (check_title (f->check));
          g_free (it->summary);
          it->summary = g_strdup (f->summary);
          g_free (it->why);
          it->why = g_strdup (f->why);
          g_free (it->impact);
          it->impact = g_strdup (f->threat[0] != '\0' ? moat_threat_get_display_name (f->threat)
                                                       : "");
          g_strfreev (it->steps);
          it->steps = status == MOAT_HEALTH_OK || f->fix[0] == '\0'
                      ? g_new0 (char *, 1) : g_strsplit (f->fix, "\n", -1);
          it->screen = f->screen[0] != '\0' ? g_strdup (f->screen) : NULL;
          g_free (it->evidence);
          it->evidence = g_strdup (f->evidence);
          it->checked = info->checked;
          g_ptr_array_add (items, it);
        }
    }
  replace_items (self, "phone", NULL, items);
}

/* ---- public ---- */

static gboolean
timer_cb (gpointer user_data)
{
  MoatHealthManager *self = user_data;

  run_checks (self);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->timer_id = g_timeout_add_seconds (MOAT_HEALTH_INTERVAL_S, timer_cb, self);
  return G_SOURCE_REMOVE;
}

/* Moat is stopping: no more checks or events. */
void
moat_health_manager_stop (MoatHealthManager *self)
{
  g_return_if_fail (MOAT_IS_HEALTH_MANAGER (self));

  self->stopped = TRUE;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->due_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
}

static void
on_protection_changed_cb (GObject           *object,
                          GParamSpec        *pspec,
                          MoatHealthManager *self)
{
  /* Protection turned on or off: the filter check follows at once. */
  if (self->items != NULL && g_hash_table_size (self->items) > 0)
    run_checks (self);
}

static void
system_bus_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(MoatHealthManager) self = user_data;
  g_autoptr(GError) error = NULL;

  self->system_bus = g_bus_get_finish (result, &error);
  if (self->system_bus == NULL)
    g_debug ("No system bus for the health checks: %s", error->message);
}

void
moat_health_manager_start (MoatHealthManager *self,
                           gboolean           automatic)
{
  g_return_if_fail (MOAT_IS_HEALTH_MANAGER (self));

  if (g_str_equal (self->root, "/"))
    g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, system_bus_cb, g_object_ref (self));
  apply_policy (self);
  g_signal_connect_object (moat_engine_get_policy_manager (self->engine), "changed",
                           G_CALLBACK (on_policy_changed_cb), self, 0);
  {
    g_autoptr(GFile) file = NULL;

    self->state_path = g_build_filename (moat_engine_get_data_dir (self->engine),
                                         REMEDIATION_STATE_FILENAME, NULL);
    file = g_file_new_for_path (self->state_path);
    g_file_load_contents_async (file, self->cancellable, state_loaded_cb, g_object_ref (self));
  }

  g_signal_connect_object (moat_engine_get_devices (self->engine), "changed",
                           G_CALLBACK (on_devices_changed_cb), self, 0);
  g_signal_connect_object (self->engine, "notify::protection-state",
                           G_CALLBACK (on_protection_changed_cb), self, 0);
  if (automatic)
    self->timer_id = g_timeout_add_seconds (MOAT_HEALTH_FIRST_CHECK_S, timer_cb, self);
}

void
moat_health_manager_check_async (MoatHealthManager   *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MOAT_IS_HEALTH_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_health_manager_check_async);
  g_ptr_array_add (self->waiters, task);
  run_checks (self);
}

gboolean
moat_health_manager_check_finish (MoatHealthManager  *self,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
fixed_checked_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;

  moat_health_manager_check_finish (MOAT_HEALTH_MANAGER (object), result, NULL);
  g_task_return_pointer (task, g_strdup (g_task_get_task_data (task)), g_free);
}

typedef struct {
  GTask *task;
  gulong handler;
  guint  timeout;
} ProtectWait;

static void
protect_wait_done (ProtectWait *wait)
{
  MoatHealthManager *self = g_task_get_source_object (wait->task);

  g_clear_signal_handler (&wait->handler, self->engine);
  g_clear_handle_id (&wait->timeout, g_source_remove);
  moat_health_manager_check_async (self, NULL, fixed_checked_cb, wait->task);
  g_free (wait);
}

static void
protect_state_cb (GObject    *object,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  ProtectWait *wait = user_data;

  if (moat_engine_get_protection_state (MOAT_ENGINE (object)) != MOAT_PROTECTION_STATE_UNPROTECTED)
    protect_wait_done (wait);
}

static gboolean
protect_timeout_cb (gpointer user_data)
{
  ProtectWait *wait = user_data;

  wait->timeout = 0;
  protect_wait_done (wait);
  return G_SOURCE_REMOVE;
}

static void
enabled_unit_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatHealthManager *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result,
                                                             &error);

  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The service manager refused: %s"), error->message);
      return;
    }
  moat_health_manager_check_async (self, NULL, fixed_checked_cb, g_steal_pointer (&task));
}

void
moat_health_manager_fix_async (MoatHealthManager   *self,
                               const char          *id,
                               const char          *subject,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *key = NULL;
  MoatHealthItem *it;
  g_autoptr(GError) error = NULL;
  const char *message = NULL;

  g_return_if_fail (MOAT_IS_HEALTH_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_health_manager_fix_async);
  key = item_key (id != NULL ? id : "", subject);
  it = g_hash_table_lookup (self->items, key);
  if (it == NULL)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                               _("There is no health check “%s”"), id != NULL ? id : "");
      return;
    }
  if (!it->auto_fix || it->status != MOAT_HEALTH_PROBLEM)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                               _("Moat cannot fix “%s” itself: follow the steps"), it->title);
      return;
    }
  if (g_str_equal (id, "moat.protection"))
    {
      if (!moat_engine_set_protect_computer (self->engine, TRUE, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      message = _("This computer’s web traffic now goes through Moat’s filter.");
      record (self, it, "fixed", message);
      g_task_set_task_data (task, g_strdup (message), g_free);
      /* The desktop's settings change in a moment: check once they have. */
      if (moat_engine_get_protection_state (self->engine) == MOAT_PROTECTION_STATE_UNPROTECTED)
        {
          ProtectWait *wait = g_new0 (ProtectWait, 1);

          wait->task = g_steal_pointer (&task);
          wait->handler = g_signal_connect (self->engine, "notify::protection-state",
                                            G_CALLBACK (protect_state_cb), wait);
          wait->timeout = g_timeout_add_seconds (5, protect_timeout_cb, wait);
          return;
        }
      moat_health_manager_check_async (self, NULL, fixed_checked_cb, g_steal_pointer (&task));
      return;
    }
  else if (g_str_equal (id, "moat.lists"))
    {
      if (moat_lists_update (moat_engine_get_lists (self->engine), &error) < 0)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      message = _("Moat is updating the lists.");
    }
  else if (g_str_equal (id, "moat.notifications"))
    {
      g_autoptr(GSettings) global = g_settings_new ("org.gnome.desktop.notifications");
      g_autoptr(GSettings) app = g_settings_new_with_path ("org.gnome.desktop.notifications.application",
                                                           APP_NOTIFICATIONS_PATH);

      g_settings_set_boolean (global, "show-banners", TRUE);
      g_settings_set_boolean (app, "enable", TRUE);
      message = _("Notifications from Moat are on.");
    }
  else if (g_str_equal (id, "moat.service"))
    {
      g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
      const char *units[] = { "moatd.service", NULL };

      if (bus == NULL)
        {
          g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED, _("No session bus"));
          return;
        }
      record (self, it, "fixed", _("Moat enabled its engine at login."));
      g_task_set_task_data (task, g_strdup (_("Moat’s engine now starts when you log in.")),
                            g_free);
      g_dbus_connection_call (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "EnableUnitFiles",
                              g_variant_new ("(^asbb)", units, FALSE, TRUE), NULL,
                              G_DBUS_CALL_FLAGS_NONE, 10000, cancellable, enabled_unit_cb,
                              g_steal_pointer (&task));
      return;
    }
  else if (g_str_equal (id, MOAT_COMPUTER_HEALTH_SCREEN_LOCK))
    {
      g_autoptr(GVariant) before = moat_computer_health_fix_screen_lock (NULL, NULL, &error);

      if (before == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* Kept (and in the event) so that the change can be undone. */
      g_clear_pointer (&self->screen_lock_before, g_variant_unref);
      self->screen_lock_before = g_variant_ref_sink (g_steal_pointer (&before));
      message = _("The screen now locks after 5 minutes without use, at once.");
    }
  else
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                               _("Moat cannot fix “%s” itself: follow the steps"), it->title);
      return;
    }
  record (self, it, "fixed", message);
  g_task_set_task_data (task, g_strdup (message), g_free);
  moat_health_manager_check_async (self, NULL, fixed_checked_cb, g_steal_pointer (&task));
}

char *
moat_health_manager_fix_finish (MoatHealthManager  *self,
                                GAsyncResult       *result,
                                GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
moat_health_manager_snooze (MoatHealthManager  *self,
                            const char         *id,
                            const char         *subject,
                            gint64              until,
                            GError            **error)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (MOAT_IS_HEALTH_MANAGER (self), FALSE);

  key = item_key (id != NULL ? id : "", subject);
  if (!g_hash_table_contains (self->items, key))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, _("There is no health check “%s”"),
                   id != NULL ? id : "");
      return FALSE;
    }
  moat_remediation_snooze (self->reminders, id, subject, until);
  if (self->emails != NULL)
    moat_remediation_snooze (self->emails, id, subject, until);
  if (until <= 0)
    g_hash_table_remove (self->snoozed, key);
  else
    g_hash_table_replace (self->snoozed, g_steal_pointer (&key), g_memdup2 (&until, sizeof until));
  remind (self);
  return TRUE;
}

static void
moat_health_manager_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  MoatHealthManager *self = MOAT_HEALTH_MANAGER (object);

  switch (prop_id)
    {
    case PROP_LEVEL:
      g_value_set_uint (value, self->level);
      break;
    case PROP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_health_manager_finalize (GObject *object)
{
  MoatHealthManager *self = MOAT_HEALTH_MANAGER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_clear_pointer (&self->snoozed, g_hash_table_unref);
  g_clear_pointer (&self->round, g_ptr_array_unref);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);
  g_clear_object (&self->system_bus);
  g_clear_pointer (&self->screen_lock_before, g_variant_unref);
  g_clear_handle_id (&self->due_id, g_source_remove);
  g_clear_object (&self->reminders);
  g_clear_object (&self->emails);
  g_free (self->email_to);
  g_free (self->state_path);
  g_free (self->root);
  g_free (self->summary);

  G_OBJECT_CLASS (moat_health_manager_parent_class)->finalize (object);
}

static void
moat_health_manager_class_init (MoatHealthManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = moat_health_manager_get_property;
  object_class->finalize = moat_health_manager_finalize;

  properties[PROP_LEVEL] =
    g_param_spec_uint ("level", NULL, NULL, 0, 4, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUMMARY] =
    g_param_spec_string ("summary", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
moat_health_manager_init (MoatHealthManager *self)
{
  self->cancellable = g_cancellable_new ();
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) moat_health_item_free);
  self->snoozed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->summary = g_strdup (_("Moat has not checked its health yet."));
  self->reminders = moat_remediation_new ();
  g_signal_connect_object (self->reminders, "changed", G_CALLBACK (on_remediation_changed_cb),
                           self, 0);
}

MoatHealthManager *
moat_health_manager_new (MoatEngine *engine)
{
  MoatHealthManager *self = g_object_new (MOAT_TYPE_HEALTH_MANAGER, NULL);

  self->engine = engine;
  self->root = g_strdup ("/");
#if MOAT_ENABLE_TEST_API
  /* Tests: this computer's files from a fake root, and no system bus. */
  if (g_getenv ("MOAT_TEST_HEALTH_ROOT") != NULL)
    {
      g_free (self->root);
      self->root = g_strdup (g_getenv ("MOAT_TEST_HEALTH_ROOT"));
    }
#endif
  return self;
}
