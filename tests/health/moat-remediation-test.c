/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-remediation-test"

#include "config.h"

#include "moat-error.h"
#include "moat-policy.h"
#include "moat-remediation.h"

#include <string.h>

#define HOUR G_TIME_SPAN_HOUR
#define DAY G_TIME_SPAN_DAY
/* 2027-01-15 09:00 UTC: the fake clock's start */
#define T0 G_GINT64_CONSTANT (1800003600000000)

typedef struct {
  MoatRemediation *remediation;
  GPtrArray       *items;
  guint            n_changed;
} Fixture;

static void
on_remediation_changed_cb (MoatRemediation *remediation, Fixture *fixture)
{
  fixture->n_changed++;
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->remediation = moat_remediation_new ();
  fixture->items = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);
  g_signal_connect (fixture->remediation, "changed", G_CALLBACK (on_remediation_changed_cb),
                    fixture);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->remediation);
  g_clear_pointer (&fixture->items, g_ptr_array_unref);
}

/* Sets the current item for (@id, @subject), adding it when new. */
static void
set_item (Fixture *fixture, const char *id, const char *subject, MoatHealthStatus status,
          MoatSeverity severity)
{
  for (guint i = 0; i < fixture->items->len; i++)
    {
      MoatHealthItem *item = g_ptr_array_index (fixture->items, i);

      if (g_str_equal (item->id, id) && g_str_equal (item->subject, subject))
        {
          item->status = status;
          item->severity = severity;
          return;
        }
    }
  g_ptr_array_add (fixture->items,
                   moat_health_item_new (id, "computer", subject, status, severity));
}

/* The ids (and subjects) due at @now, as "id/subject,id/subject". */
static char *
update (Fixture *fixture, gint64 now)
{
  g_autoptr(GPtrArray) due = moat_remediation_update (fixture->remediation, fixture->items, now);
  g_autoptr(GString) s = g_string_new (NULL);

  g_assert_nonnull (due);
  for (guint i = 0; i < due->len; i++)
    {
      const MoatHealthItem *item = g_ptr_array_index (due, i);

      g_string_append_printf (s, "%s%s/%s", i > 0 ? "," : "", item->id, item->subject);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

#define assert_due(fixture, now, expected) \
  G_STMT_START { \
    g_autofree char *due_ = update ((fixture), (now)); \
    g_assert_cmpstr (due_, ==, (expected)); \
  } G_STMT_END

static guint
get_count (Fixture *fixture, const char *id, const char *subject)
{
  guint count = 0;

  g_assert_true (moat_remediation_lookup (fixture->remediation, id, subject, NULL, NULL, &count,
                                          NULL));
  return count;
}

/* Now, after 1 day, then every 3 days: on time, never early. */
static void
test_cadence (Fixture *fixture, gconstpointer data)
{
  gint64 first_seen = 0, last = 0;

  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, G_MAXINT64);
  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "computer.disk_encryption/");
  g_assert_true (moat_remediation_lookup (fixture->remediation, "computer.disk_encryption", "",
                                          &first_seen, &last, NULL, NULL));
  g_assert_cmpint (first_seen, ==, T0);
  g_assert_cmpint (last, ==, T0);
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 + DAY);

  /* Checks run often; nothing is due in between. */
  assert_due (fixture, T0, "");
  assert_due (fixture, T0 + HOUR, "");
  assert_due (fixture, T0 + DAY - 1, "");
  assert_due (fixture, T0 + DAY, "computer.disk_encryption/");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 + 4 * DAY);
  assert_due (fixture, T0 + 2 * DAY, "");
  assert_due (fixture, T0 + 4 * DAY - 1, "");
  assert_due (fixture, T0 + 4 * DAY, "computer.disk_encryption/");
  assert_due (fixture, T0 + 7 * DAY, "computer.disk_encryption/");
  g_assert_cmpuint (get_count (fixture, "computer.disk_encryption", ""), ==, 4);

  /* A reminder missed while the computer slept comes once, and the next
   * counts from it. */
  assert_due (fixture, T0 + 20 * DAY, "computer.disk_encryption/");
  assert_due (fixture, T0 + 21 * DAY, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 + 23 * DAY);
  g_assert_cmpuint (get_count (fixture, "computer.disk_encryption", ""), ==, 5);
}

/* A custom cadence, a grace period, and one that stops after its list. */
static void
test_custom_cadence (Fixture *fixture, gconstpointer data)
{
  static const gint64 grace[] = { 2 * HOUR, 6 * HOUR };

  moat_remediation_set_cadence (fixture->remediation, grace, G_N_ELEMENTS (grace), 0);
  set_item (fixture, "moat.lists_fresh", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  assert_due (fixture, T0, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 + 2 * HOUR);
  assert_due (fixture, T0 + 2 * HOUR, "moat.lists_fresh/");
  assert_due (fixture, T0 + 8 * HOUR - 1, "");
  assert_due (fixture, T0 + 8 * HOUR, "moat.lists_fresh/");
  /* The list is done and there is no repeat. */
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, G_MAXINT64);
  assert_due (fixture, T0 + 300 * DAY, "");

  /* No intervals and no repeat: never. */
  set_item (fixture, "moat.notifications", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  moat_remediation_set_cadence (fixture->remediation, NULL, 0, 0);
  assert_due (fixture, T0 + 301 * DAY, "");

  /* Only a repeat: the first one after a full period; a problem past its
   * list goes on with the repeat. */
  moat_remediation_set_cadence (fixture->remediation, NULL, 0, DAY);
  assert_due (fixture, T0 + 302 * DAY - 1, "moat.lists_fresh/");
  assert_due (fixture, T0 + 302 * DAY, "moat.notifications/");
}

/* A snoozed problem waits for the snooze to end; 0 lifts it. */
static void
test_snooze (Fixture *fixture, gconstpointer data)
{
  gint64 snoozed_until = 0;

  g_assert_false (moat_remediation_snooze (fixture->remediation, "computer.firewall", "",
                                           T0 + DAY));
  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  set_item (fixture, "computer.screen_lock", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  assert_due (fixture, T0, "computer.firewall/,computer.screen_lock/");

  fixture->n_changed = 0;
  g_assert_true (moat_remediation_snooze (fixture->remediation, "computer.firewall", "",
                                          T0 + 2 * DAY + HOUR));
  g_assert_cmpuint (fixture->n_changed, ==, 1);
  g_assert_true (moat_remediation_lookup (fixture->remediation, "computer.firewall", "", NULL,
                                          NULL, NULL, &snoozed_until));
  g_assert_cmpint (snoozed_until, ==, T0 + 2 * DAY + HOUR);

  /* The other problem is not snoozed. */
  assert_due (fixture, T0 + DAY, "computer.screen_lock/");
  assert_due (fixture, T0 + 2 * DAY, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 + 2 * DAY + HOUR);
  assert_due (fixture, T0 + 2 * DAY + HOUR, "computer.firewall/");
  /* After the snooze the cadence goes on: every 3 days from there. */
  assert_due (fixture, T0 + 5 * DAY + HOUR - 1, "computer.screen_lock/");
  assert_due (fixture, T0 + 5 * DAY + HOUR, "computer.firewall/");

  /* Lifting a snooze makes a reminder that was held back due at once. */
  g_assert_true (moat_remediation_snooze (fixture->remediation, "computer.screen_lock", "",
                                          T0 + 30 * DAY));
  assert_due (fixture, T0 + 9 * DAY, "computer.firewall/");
  g_assert_true (moat_remediation_snooze (fixture->remediation, "computer.screen_lock", "", 0));
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==,
                   T0 + 8 * DAY + HOUR - 1);
  assert_due (fixture, T0 + 9 * DAY + 1, "computer.screen_lock/");
}

/* Fixed (status ok) stops the reminders and forgets the problem, with its
 * snooze; when it comes back it starts over. */
static void
test_fixed_and_back (Fixture *fixture, gconstpointer data)
{
  gint64 first_seen = 0, snoozed_until = -1;

  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "computer.disk_encryption/");
  assert_due (fixture, T0 + DAY, "computer.disk_encryption/");
  g_assert_true (moat_remediation_snooze (fixture->remediation, "computer.disk_encryption", "",
                                          T0 + 10 * DAY));

  fixture->n_changed = 0;
  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  assert_due (fixture, T0 + 2 * DAY, "");
  g_assert_cmpuint (fixture->n_changed, ==, 1);
  g_assert_false (moat_remediation_lookup (fixture->remediation, "computer.disk_encryption", "",
                                           NULL, NULL, NULL, NULL));
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 0);
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, G_MAXINT64);
  assert_due (fixture, T0 + 4 * DAY, "");
  assert_due (fixture, T0 + 50 * DAY, "");

  /* It comes back: reminded at once, the count starts over, no snooze. */
  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + 51 * DAY, "computer.disk_encryption/");
  g_assert_true (moat_remediation_lookup (fixture->remediation, "computer.disk_encryption", "",
                                          &first_seen, NULL, NULL, &snoozed_until));
  g_assert_cmpint (first_seen, ==, T0 + 51 * DAY);
  g_assert_cmpint (snoozed_until, ==, 0);
  g_assert_cmpuint (get_count (fixture, "computer.disk_encryption", ""), ==, 1);
  assert_due (fixture, T0 + 52 * DAY, "computer.disk_encryption/");
}

/* "unknown" (the check could not tell) keeps the problem but is not
 * reminded of; a problem missing from the updates is kept for a while. */
static void
test_unknown_and_absent (Fixture *fixture, gconstpointer data)
{
  set_item (fixture, "phone.os_outdated_patch", "R58M123", MOAT_HEALTH_PROBLEM,
            MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "phone.os_outdated_patch/R58M123");

  set_item (fixture, "phone.os_outdated_patch", "R58M123", MOAT_HEALTH_UNKNOWN,
            MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + 2 * DAY, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, G_MAXINT64);
  g_assert_cmpuint (get_count (fixture, "phone.os_outdated_patch", "R58M123"), ==, 1);
  /* Unknown never starts tracking. */
  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + 2 * DAY, "");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 1);

  /* Back to a problem: the cadence goes on (the second reminder is late). */
  set_item (fixture, "phone.os_outdated_patch", "R58M123", MOAT_HEALTH_PROBLEM,
            MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + 3 * DAY, "phone.os_outdated_patch/R58M123");
  g_assert_cmpuint (get_count (fixture, "phone.os_outdated_patch", "R58M123"), ==, 2);

  /* The phone is gone from the list: kept (no reminder) for 30 days. */
  g_ptr_array_set_size (fixture->items, 0);
  assert_due (fixture, T0 + 10 * DAY, "");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 1);
  assert_due (fixture, T0 + 33 * DAY - 1, "");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 1);
  assert_due (fixture, T0 + 33 * DAY, "");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 0);
}

/* Each (check, subject) is its own problem. */
static void
test_subjects (Fixture *fixture, gconstpointer data)
{
  set_item (fixture, "phone.screen_lock", "A1", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "phone.screen_lock/A1");
  set_item (fixture, "phone.screen_lock", "B2", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + HOUR, "phone.screen_lock/B2");
  set_item (fixture, "phone.screen_lock", "A1", MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  assert_due (fixture, T0 + DAY + HOUR, "phone.screen_lock/B2");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 1);
  g_assert_false (moat_remediation_snooze (fixture->remediation, "phone.screen_lock", "A1", 1));
  g_assert_true (moat_remediation_snooze (fixture->remediation, "phone.screen_lock", "B2", 1));
}

/* Default: every check, medium or worse. A problem that gets worse is
 * reminded of at once; patterns pick checks. */
static void
test_alerting (Fixture *fixture, gconstpointer data)
{
  static const char *const patterns[] = { "computer.disk_encryption", "moat.*", NULL };
  static const char *const none[] = { NULL };

  set_item (fixture, "computer.ssh_exposed", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_LOW);
  set_item (fixture, "moat.notifications", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  assert_due (fixture, T0, "moat.notifications/");
  g_assert_cmpuint (moat_remediation_get_n_problems (fixture->remediation), ==, 2);
  g_assert_false (moat_remediation_is_alerting (fixture->remediation, "computer.ssh_exposed",
                                                MOAT_SEVERITY_LOW));
  g_assert_true (moat_remediation_is_alerting (fixture->remediation, "computer.ssh_exposed",
                                               MOAT_SEVERITY_MEDIUM));

  /* Worse now: its first reminder was due when it was first seen. */
  set_item (fixture, "computer.ssh_exposed", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0 + HOUR, "computer.ssh_exposed/");

  moat_remediation_set_alerting (fixture->remediation, patterns, MOAT_SEVERITY_LOW);
  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_LOW);
  set_item (fixture, "moat.store", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_LOW);
  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_CRITICAL);
  assert_due (fixture, T0 + 2 * HOUR, "computer.disk_encryption/,moat.store/");
  /* computer.ssh_exposed no longer alerts, moat.notifications does. */
  assert_due (fixture, T0 + 30 * HOUR,
              "moat.notifications/,computer.disk_encryption/,moat.store/");
  g_assert_false (moat_remediation_is_alerting (fixture->remediation, "moat", MOAT_SEVERITY_HIGH));

  moat_remediation_set_alerting (fixture->remediation, none, MOAT_SEVERITY_INFO);
  assert_due (fixture, T0 + 100 * DAY, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, G_MAXINT64);
  moat_remediation_set_alerting (fixture->remediation, NULL, MOAT_SEVERITY_CRITICAL);
  assert_due (fixture, T0 + 100 * DAY + 1, "computer.firewall/");
}

/* A clock set back does not hold the reminders back until it catches up. */
static void
test_clock_back (Fixture *fixture, gconstpointer data)
{
  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "computer.firewall/");
  assert_due (fixture, T0 - 100 * DAY, "");
  g_assert_cmpint (moat_remediation_next_due (fixture->remediation), ==, T0 - 99 * DAY);
  assert_due (fixture, T0 - 99 * DAY, "computer.firewall/");
}

/* What the policy sets is what the scheduler does. */
static void
test_policy_cadence (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_parse (
    "test.policy",
    "remind = 1h, 1d, every 1w\n"
    "remind_checks = computer.*, moat.store\n"
    "remind_severity = high\n",
    -1, &error);
  g_autoptr(MoatPolicy) defaults = moat_policy_parse ("default.policy", "", -1, &error);
  const MoatPolicyCadence *cadence;

  g_assert_no_error (error);
  cadence = moat_policy_get_remind (policy);
  moat_remediation_set_cadence (fixture->remediation, cadence->intervals, cadence->n_intervals,
                                cadence->repeat);
  moat_remediation_set_alerting (fixture->remediation, moat_policy_get_remind_checks (policy),
                                 moat_policy_get_remind_severity (policy));

  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  set_item (fixture, "computer.screen_lock", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  set_item (fixture, "moat.store", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_CRITICAL);
  set_item (fixture, "moat.notifications", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_CRITICAL);
  assert_due (fixture, T0, "");
  assert_due (fixture, T0 + HOUR, "computer.firewall/,moat.store/");
  assert_due (fixture, T0 + HOUR + DAY, "computer.firewall/,moat.store/");
  assert_due (fixture, T0 + HOUR + 8 * DAY - 1, "");
  assert_due (fixture, T0 + HOUR + 8 * DAY, "computer.firewall/,moat.store/");

  /* The policy's defaults are the scheduler's. */
  cadence = moat_policy_get_remind (defaults);
  g_assert_cmpuint (cadence->n_intervals, ==, 2);
  g_assert_cmpint (cadence->intervals[0], ==, MOAT_REMEDIATION_DEFAULT_FIRST);
  g_assert_cmpint (cadence->intervals[1], ==, MOAT_REMEDIATION_DEFAULT_SECOND);
  g_assert_cmpint (cadence->repeat, ==, MOAT_REMEDIATION_DEFAULT_REPEAT);
  g_assert_cmpint (moat_policy_get_remind_severity (defaults), ==, MOAT_SEVERITY_MEDIUM);
  g_assert_null (moat_policy_get_remind_checks (defaults));
}

/* Saved and loaded, the state goes on where it was. */
static void
test_state_round_trip (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatRemediation) again = moat_remediation_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) due = NULL;
  g_autofree char *json = NULL;
  g_autofree char *json2 = NULL;
  gint64 first_seen = 0, last = 0, snoozed_until = 0;
  guint count = 0;

  set_item (fixture, "computer.disk_encryption", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  set_item (fixture, "phone.screen_lock", "ZX1 \"quoted\" ü", MOAT_HEALTH_PROBLEM,
            MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "computer.disk_encryption/,phone.screen_lock/ZX1 \"quoted\" ü");
  assert_due (fixture, T0 + DAY, "computer.disk_encryption/,phone.screen_lock/ZX1 \"quoted\" ü");
  g_assert_true (moat_remediation_snooze (fixture->remediation, "phone.screen_lock",
                                          "ZX1 \"quoted\" ü", T0 + 10 * DAY));
  json = moat_remediation_save (fixture->remediation);

  g_assert_true (moat_remediation_load (again, json, -1, &error));
  g_assert_no_error (error);
  json2 = moat_remediation_save (again);
  g_assert_cmpstr (json2, ==, json);
  g_assert_cmpuint (moat_remediation_get_n_problems (again), ==, 2);
  g_assert_true (moat_remediation_lookup (again, "phone.screen_lock", "ZX1 \"quoted\" ü",
                                          &first_seen, &last, &count, &snoozed_until));
  g_assert_cmpint (first_seen, ==, T0);
  g_assert_cmpint (last, ==, T0 + DAY);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpint (snoozed_until, ==, T0 + 10 * DAY);

  /* After a restart: nothing again before the cadence says so. */
  due = moat_remediation_update (again, fixture->items, T0 + DAY + HOUR);
  g_assert_cmpuint (due->len, ==, 0);
  g_clear_pointer (&due, g_ptr_array_unref);
  due = moat_remediation_update (again, fixture->items, T0 + 4 * DAY);
  g_assert_cmpuint (due->len, ==, 1);
  g_assert_cmpstr (((MoatHealthItem *) g_ptr_array_index (due, 0))->id, ==,
                   "computer.disk_encryption");

  /* An empty state is valid. */
  g_assert_true (moat_remediation_load (again, "{\"version\": 1, \"problems\": []}", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (moat_remediation_get_n_problems (again), ==, 0);
}

/* A broken or hostile state is refused whole, and the state in force stays. */
static void
test_hostile_state (Fixture *fixture, gconstpointer data)
{
  static const struct {
    const char *json;
    const char *message;
  } cases[] = {
    { "", NULL },
    { "[]", "remediation state: not a JSON object" },
    { "{\"problems\": []}", "remediation state: version 0 is not 1" },
    { "{\"version\": 2, \"problems\": []}", "remediation state: version 2 is not 1" },
    { "{\"version\": \"1\", \"problems\": []}",
      "remediation state: “version” is not a whole number" },
    { "{\"version\": 1}", "remediation state: “problems” is not an array" },
    { "{\"version\": 1, \"problems\": {}}", "remediation state: “problems” is not an array" },
    { "{\"version\": 1, \"problems\": [1]}", "remediation state: problem 0: not an object" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"x\", \"subject\": \"\", \"first_seen\": 1}]}",
      "remediation state: problem 0: “id” is not a check id" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"first_seen\": 1}]}",
      "remediation state: problem 0: “subject” is missing or not a subject" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"a\\nb\", "
      "\"first_seen\": 1}]}",
      "remediation state: problem 0: “subject” is missing or not a subject" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\"}]}",
      "remediation state: problem 0: “first_seen” is missing" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": -5}]}",
      "remediation state: problem 0: “first_seen” is out of range" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": 9223372036854775807}]}",
      "remediation state: problem 0: “first_seen” is out of range" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": 1.5}]}",
      "remediation state: problem 0: “first_seen” is not a whole number" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": 1, \"count\": 3}]}",
      "remediation state: problem 0: reminded 3 times but “last_reminded” is missing" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": 1, \"count\": 99999999999}]}",
      "remediation state: problem 0: “count” is out of range" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": 1}, {\"id\": \"computer.a\", \"subject\": \"\", \"first_seen\": 2}]}",
      "remediation state: problem 1: listed twice" },
    { "{\"version\": 1, \"problems\": [{\"id\": \"computer.a\", \"subject\": \"\", "
      "\"first_seen\": null}]}",
      "remediation state: problem 0: “first_seen” is not a whole number" },
  };
  g_autoptr(GString) many = g_string_new ("{\"version\": 1, \"problems\": [");
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  static const char nul[] = "{\"version\": 1,\0 \"problems\": []}";

  set_item (fixture, "computer.firewall", "", MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  assert_due (fixture, T0, "computer.firewall/");
  before = moat_remediation_save (fixture->remediation);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i].json);
      g_assert_false (moat_remediation_load (fixture->remediation, cases[i].json, -1, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      else
        g_assert_true (g_str_has_prefix (error->message, "remediation state: "));
      g_clear_error (&error);
    }

  g_assert_false (moat_remediation_load (fixture->remediation, nul, sizeof nul - 1, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "remediation state: not UTF-8 text");
  g_clear_error (&error);
  g_assert_false (moat_remediation_load (fixture->remediation, "{\"version\": \"\xff\"}", -1,
                                         &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Too many problems. */
  for (guint i = 0; i <= MOAT_REMEDIATION_MAX_PROBLEMS; i++)
    g_string_append_printf (many, "%s{\"id\": \"computer.c%u\", \"subject\": \"\", "
                            "\"first_seen\": 1}", i > 0 ? "," : "", i);
  g_string_append (many, "]}");
  g_assert_false (moat_remediation_load (fixture->remediation, many->str, -1, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "remediation state: more than 1024 problems");
  g_clear_error (&error);

  /* Deep nesting must not exhaust the stack. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_assert_false (moat_remediation_load (fixture->remediation, deep->str, -1, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "remediation state: nested too deeply");
  g_clear_error (&error);

  after = moat_remediation_save (fixture->remediation);
  g_assert_cmpstr (after, ==, before);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/moat/remediation/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("cadence", test_cadence);
  ADD ("custom-cadence", test_custom_cadence);
  ADD ("snooze", test_snooze);
  ADD ("fixed-and-back", test_fixed_and_back);
  ADD ("unknown-and-absent", test_unknown_and_absent);
  ADD ("subjects", test_subjects);
  ADD ("alerting", test_alerting);
  ADD ("clock-back", test_clock_back);
  ADD ("policy-cadence", test_policy_cadence);
  ADD ("state-round-trip", test_state_round_trip);
  ADD ("hostile-state", test_hostile_state);
#undef ADD

  return g_test_run ();
}
