/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-policy"

#include "config.h"

#include "moat-policy.h"

#include "moat-error.h"
#include "moat-host.h"

#include <glib/gi18n.h>
#include <string.h>

/*
 * MoatPolicy: which threat gets which response, from a text file an admin
 * hands out. One statement per line; `#` starts a comment.
 *
 *   vpn = Company VPN                      settings: NAME = VALUE
 *   vpn_timeout = 30
 *   gateway = gateway.example.com:8080
 *   protect = intranet.example.com, 10.1.2.3
 *   remind = now, 1d, every 3d             health reminders (see below)
 *   remind_checks = computer.*, moat.*
 *   remind_severity = medium
 *   email = alerts@example.com
 *   email_checks = computer.disk_encryption, moat.*
 *   email_severity = high
 *
 *   network.* >= medium: vpn_on_demand || block_protected_resources; notify
 *   content.c2: block_host; notify
 *
 * A rule is a threat pattern (`vector.kind`, `vector.*` or `*`), an optional
 * least severity (`>= medium`; any severity without it), a colon and chains
 * separated by `;`. Every chain runs; within one, `||` tries the next action
 * when one fails. For a threat the first rule that matches applies, so a
 * rule that an earlier one always beats is refused as a mistake.
 *
 * `remind` is when the user is reminded of a health problem that is not
 * fixed: a list of delays, the first after the problem is first seen
 * (`now` for at once), each next one after the one before, and optionally
 * `every DURATION` last; `off` for never. A duration is a number and s, m,
 * h, d or w. `remind_checks` and `email_checks` pick health checks
 * (`area.name`, `area.*` or `*`, the areas being moat, computer and phone),
 * `*_severity` the least severity that alerts; `email` is where the email
 * alerts go.
 *
 * Parsing is strict and total: any fault refuses the whole file with
 * "NAME:LINE: reason", so a running policy is only ever replaced by a
 * complete, valid one.
 */

struct _MoatPolicy
{
  gatomicrefcount ref_count;
  char           *name;
  GArray         *rules;        /* of MoatPolicyRule */
  char           *vpn;
  guint           vpn_timeout;
  char           *gateway;
  GPtrArray      *protected_hosts;   /* canonical names and addresses, NULL-terminated */
  MoatPolicyCadence remind;
  GPtrArray      *remind_checks;     /* NULL-terminated; NULL for every check */
  MoatSeverity    remind_severity;
  char           *email;
  GPtrArray      *email_checks;      /* NULL-terminated; NULL for every check */
  MoatSeverity    email_severity;
};

G_DEFINE_BOXED_TYPE (MoatPolicy, moat_policy, moat_policy_ref, moat_policy_unref)

#define DEFAULT_VPN_TIMEOUT 30
#define MAX_VPN_TIMEOUT 600
#define MAX_SETTING_VALUE 255
#define MAX_PROTECTED_HOSTS 256
#define DEFAULT_ALERT_SEVERITY MOAT_SEVERITY_MEDIUM
#define MIN_DURATION G_TIME_SPAN_MINUTE
#define MAX_DURATION (365 * G_TIME_SPAN_DAY)

/* The default cadence: now, after 1 day, then every 3 days. */
static const MoatPolicyCadence default_remind = {
  .intervals = { 0, G_TIME_SPAN_DAY },
  .n_intervals = 2,
  .repeat = 3 * G_TIME_SPAN_DAY,
};

enum {
  SETTING_VPN,
  SETTING_VPN_TIMEOUT,
  SETTING_GATEWAY,
  SETTING_PROTECT,
  SETTING_REMIND,
  SETTING_REMIND_CHECKS,
  SETTING_REMIND_SEVERITY,
  SETTING_EMAIL,
  SETTING_EMAIL_CHECKS,
  SETTING_EMAIL_SEVERITY,
  N_SETTINGS
};

static const char *const setting_names[] = {
  [SETTING_VPN] = "vpn",
  [SETTING_VPN_TIMEOUT] = "vpn_timeout",
  [SETTING_GATEWAY] = "gateway",
  [SETTING_PROTECT] = "protect",
  [SETTING_REMIND] = "remind",
  [SETTING_REMIND_CHECKS] = "remind_checks",
  [SETTING_REMIND_SEVERITY] = "remind_severity",
  [SETTING_EMAIL] = "email",
  [SETTING_EMAIL_CHECKS] = "email_checks",
  [SETTING_EMAIL_SEVERITY] = "email_severity",
};
G_STATIC_ASSERT (G_N_ELEMENTS (setting_names) == N_SETTINGS);

static const char *const action_names[] = {
  [MOAT_ACTION_VPN_ON_DEMAND] = "vpn_on_demand",
  [MOAT_ACTION_BLOCK_PROTECTED_RESOURCES] = "block_protected_resources",
  [MOAT_ACTION_ROUTE_VIA_GATEWAY] = "route_via_gateway",
  [MOAT_ACTION_DISCONNECT_WIFI] = "disconnect_wifi",
  [MOAT_ACTION_DISABLE_VPN] = "disable_vpn",
  [MOAT_ACTION_BLOCK_HOST] = "block_host",
  [MOAT_ACTION_NOTIFY] = "notify",
};
G_STATIC_ASSERT (G_N_ELEMENTS (action_names) == MOAT_ACTION_LAST);

const char *
moat_action_to_string (MoatAction action)
{
  g_return_val_if_fail (action < MOAT_ACTION_LAST, NULL);
  return action_names[action];
}

gboolean
moat_action_from_string (const char *str, MoatAction *out)
{
  for (guint i = 0; i < MOAT_ACTION_LAST; i++)
    if (g_strcmp0 (str, action_names[i]) == 0)
      {
        if (out != NULL)
          *out = i;
        return TRUE;
      }
  return FALSE;
}

static void
rule_clear (gpointer data)
{
  MoatPolicyRule *rule = data;

  g_free (rule->pattern);
}

MoatPolicy *
moat_policy_ref (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
moat_policy_unref (MoatPolicy *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->name);
  g_array_unref (self->rules);
  g_free (self->vpn);
  g_free (self->gateway);
  g_ptr_array_unref (self->protected_hosts);
  g_clear_pointer (&self->remind_checks, g_ptr_array_unref);
  g_free (self->email);
  g_clear_pointer (&self->email_checks, g_ptr_array_unref);
  g_free (self);
}

/* ---- parsing ---- */

typedef struct {
  MoatPolicy *policy;
  const char *name;
  guint       line;
  const char *p;       /* cursor in the current line */
  const char *end;     /* end of the current line, comment excluded */
  guint       setting_lines[N_SETTINGS];   /* where each setting was set */
} Parser;

static gboolean G_GNUC_PRINTF (3, 4)
fail (Parser *ps, GError **error, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  /* Translators: a fault in a policy file: file name, line number, reason */
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, _("%s:%u: %s"), ps->name,
               ps->line, reason);
  return FALSE;
}

static void
skip_space (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
    ps->p++;
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '*' || c == '-';
}

/* The next word (letters, digits, `_ . * -`), or NULL at anything else. */
static char *
take_word (Parser *ps)
{
  const char *start;

  skip_space (ps);
  start = ps->p;
  while (ps->p < ps->end && is_word_char (*ps->p))
    ps->p++;
  return ps->p > start ? g_strndup (start, ps->p - start) : NULL;
}

/* What is left on the line, for messages: at most 40 bytes, whole characters. */
static char *
rest_for_message (Parser *ps)
{
  const char *stop = ps->p;

  while (stop < ps->end && stop - ps->p < 40)
    stop = g_utf8_next_char (stop);
  return g_strndup (ps->p, MIN (stop, ps->end) - ps->p);
}

static gboolean
valid_pattern (const char *pattern)
{
  static const char *const vectors[] = { "network.*", "content.*", "app.*", "os.*", "moat.*" };

  if (strcmp (pattern, "*") == 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    if (strcmp (pattern, vectors[i]) == 0)
      return TRUE;
  return moat_threat_id_is_valid (pattern);
}

/* Does every threat under @inner also fall under @outer? */
static gboolean
pattern_covers (const char *outer, const char *inner)
{
  gsize len = strlen (outer);

  if (strcmp (outer, "*") == 0 || strcmp (outer, inner) == 0)
    return TRUE;
  if (len >= 2 && outer[len - 1] == '*')
    return strcmp (inner, "*") != 0 && strncmp (inner, outer, len - 1) == 0;
  return FALSE;
}

static char *
known_actions (void)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < MOAT_ACTION_LAST; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", action_names[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
parse_chain (Parser *ps, MoatPolicyChain *chain, GError **error)
{
  chain->n_actions = 0;
  for (;;)
    {
      g_autofree char *word = take_word (ps);
      MoatAction action;

      if (word == NULL)
        {
          g_autofree char *rest = rest_for_message (ps);

          if (ps->p == ps->end)
            return fail (ps, error, _("an action is missing at the end of the line"));
          return fail (ps, error, _("expected an action, found “%s”"), rest);
        }
      if (!moat_action_from_string (word, &action))
        {
          g_autofree char *known = known_actions ();

          return fail (ps, error, _("unknown action “%s” (known: %s)"), word, known);
        }
      for (guint i = 0; i < chain->n_actions; i++)
        if (chain->actions[i] == action)
          return fail (ps, error, _("“%s” twice in one chain"), word);
      if (chain->n_actions > 0 && chain->actions[chain->n_actions - 1] == MOAT_ACTION_NOTIFY)
        return fail (ps, error,
                     _("“%s” can never run: “notify” before it never fails"), word);
      if (chain->n_actions == MOAT_POLICY_MAX_CHAIN_LENGTH)
        return fail (ps, error, _("more than %d actions in one chain"),
                     MOAT_POLICY_MAX_CHAIN_LENGTH);
      chain->actions[chain->n_actions++] = action;

      skip_space (ps);
      if (ps->end - ps->p >= 2 && ps->p[0] == '|' && ps->p[1] == '|')
        {
          ps->p += 2;
          continue;
        }
      return TRUE;
    }
}

static gboolean
parse_rule (Parser *ps, char *pattern, GError **error)
{
  MoatPolicy *policy = ps->policy;
  MoatPolicyRule rule = { 0 };
  g_autofree char *owned_pattern = pattern;

  if (!valid_pattern (pattern))
    return fail (ps, error,
                 _("unknown threat “%s”: write vector.kind, vector.* or *, where the vector "
                   "is network, content, app, os or moat"), pattern);
  rule.min_severity = MOAT_SEVERITY_INFO;
  rule.line = ps->line;

  skip_space (ps);
  if (ps->end - ps->p >= 2 && ps->p[0] == '>' && ps->p[1] == '=')
    {
      g_autofree char *severity = NULL;

      ps->p += 2;
      severity = take_word (ps);
      if (severity == NULL || !moat_severity_from_string (severity, &rule.min_severity))
        return fail (ps, error,
                     _("unknown severity “%s”: use info, low, medium, high or critical"),
                     severity != NULL ? severity : "");
      skip_space (ps);
    }
  if (ps->p == ps->end || *ps->p != ':')
    return fail (ps, error, _("expected “:” and actions after “%s”"), pattern);
  ps->p++;

  skip_space (ps);
  if (ps->p == ps->end)
    return fail (ps, error, _("no actions after “:”"));
  for (;;)
    {
      if (rule.n_chains == MOAT_POLICY_MAX_CHAINS)
        return fail (ps, error, _("more than %d chains in one rule"), MOAT_POLICY_MAX_CHAINS);
      if (!parse_chain (ps, &rule.chains[rule.n_chains], error))
        return FALSE;
      rule.n_chains++;
      skip_space (ps);
      if (ps->p == ps->end)
        break;
      if (*ps->p != ';')
        {
          g_autofree char *rest = rest_for_message (ps);

          return fail (ps, error, _("expected “;” or “||” before “%s”"), rest);
        }
      ps->p++;
      skip_space (ps);
      /* A trailing ";" ends the rule. */
      if (ps->p == ps->end)
        break;
    }

  /* The same action in two chains of one rule would run twice. */
  for (guint a = 0; a < rule.n_chains; a++)
    for (guint b = a + 1; b < rule.n_chains; b++)
      for (guint i = 0; i < rule.chains[a].n_actions; i++)
        for (guint j = 0; j < rule.chains[b].n_actions; j++)
          if (rule.chains[a].actions[i] == rule.chains[b].actions[j])
            return fail (ps, error, _("“%s” is in two chains of this rule"),
                         action_names[rule.chains[a].actions[i]]);

  for (guint i = 0; i < policy->rules->len; i++)
    {
      const MoatPolicyRule *earlier = &g_array_index (policy->rules, MoatPolicyRule, i);

      if (pattern_covers (earlier->pattern, pattern) && earlier->min_severity <= rule.min_severity)
        return fail (ps, error,
                     _("this rule never applies: the rule on line %u comes first and covers "
                       "the same threats"), earlier->line);
    }
  if (policy->rules->len == MOAT_POLICY_MAX_RULES)
    return fail (ps, error, _("more than %d rules"), MOAT_POLICY_MAX_RULES);

  rule.pattern = g_steal_pointer (&owned_pattern);
  g_array_append_val (policy->rules, rule);
  return TRUE;
}

/* host:port, IPv6 in brackets */
static gboolean
valid_gateway (const char *value)
{
  const char *colon = strrchr (value, ':');
  guint64 port;

  if (colon == NULL || colon == value || colon[1] == '\0')
    return FALSE;
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return FALSE;
  if (value[0] == '[')
    return colon[-1] == ']' && colon - value > 2;
  for (const char *p = value; p < colon; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* `protect = HOST, HOST …`: names (covering their subdomains) or addresses. */
static gboolean
parse_protected (Parser *ps, const char *value, GError **error)
{
  MoatPolicy *policy = ps->policy;
  g_auto(GStrv) items = g_strsplit_set (value, ", \t", -1);
  guint n = 0;

  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autofree char *host = NULL;
      MoatHostKind kind = MOAT_HOST_KIND_NAME;
      gboolean known = FALSE;

      if (items[i][0] == '\0')
        continue;
      n++;
      host = moat_host_normalize (items[i], -1, &kind, NULL);
      if (host == NULL || strchr (items[i], '*') != NULL || strchr (items[i], '/') != NULL ||
          (strchr (items[i], ':') != NULL && kind != MOAT_HOST_KIND_IPV6))
        return fail (ps, error, _("“%s” is not a host name or an address (protect takes names "
                                  "such as intranet.example.com, which cover their subdomains)"),
                     items[i]);
      for (guint j = 0; j + 1 < policy->protected_hosts->len; j++)
        known = known || g_str_equal (g_ptr_array_index (policy->protected_hosts, j), host);
      if (known)
        continue;
      if (policy->protected_hosts->len > MAX_PROTECTED_HOSTS)
        return fail (ps, error, _("more than %d protected hosts"), MAX_PROTECTED_HOSTS);
      /* Keep the array NULL-terminated. */
      g_ptr_array_insert (policy->protected_hosts, policy->protected_hosts->len - 1,
                          g_steal_pointer (&host));
    }
  if (n == 0)
    return fail (ps, error, _("“protect” names no host"));
  return TRUE;
}

/* A number and s, m, h, d or w: "30m", "1d". */
static gboolean
parse_duration (const char *word, gint64 *out)
{
  static const struct {
    char   unit;
    gint64 us;
  } units[] = {
    { 's', G_TIME_SPAN_SECOND }, { 'm', G_TIME_SPAN_MINUTE }, { 'h', G_TIME_SPAN_HOUR },
    { 'd', G_TIME_SPAN_DAY }, { 'w', 7 * G_TIME_SPAN_DAY },
  };
  gsize len = strlen (word);
  g_autofree char *digits = NULL;
  guint64 n;

  if (len < 2 || len > 12)
    return FALSE;
  digits = g_strndup (word, len - 1);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32, &n, NULL))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (word[len - 1] == units[i].unit)
      {
        /* Too long a delay stays too long rather than overflow. */
        *out = n > (guint64) (G_MAXINT64 / units[i].us) ? G_MAXINT64 : (gint64) n * units[i].us;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_duration_in_range (Parser *ps, const char *word, gint64 *out, GError **error)
{
  if (!parse_duration (word, out))
    return fail (ps, error, _("“%s” is not a duration: write a number and s, m, h, d or w, "
                              "such as 30m or 1d"), word);
  if (*out < MIN_DURATION || *out > MAX_DURATION)
    return fail (ps, error, _("“%s”: a reminder’s delay must be from 1 minute to 365 days"),
                 word);
  return TRUE;
}

/* `remind = now, 1d, every 3d` or `remind = off` */
static gboolean
parse_remind (Parser *ps, const char *value, GError **error)
{
  g_auto(GStrv) items = g_strsplit (value, ",", -1);
  MoatPolicyCadence cadence = { 0 };

  if (g_strcmp0 (g_strstrip (items[0]), "off") == 0 && items[1] == NULL)
    {
      ps->policy->remind = cadence;
      return TRUE;
    }
  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);

      if (item[0] == '\0')
        return fail (ps, error, _("“remind” has an empty item: write such as now, 1d, every 3d, "
                                  "or off"));
      if (cadence.repeat != 0)
        return fail (ps, error, _("“every …” can only come last"));
      if (strcmp (item, "now") == 0)
        {
          if (i > 0)
            return fail (ps, error, _("“now” can only come first"));
          cadence.intervals[cadence.n_intervals++] = 0;
        }
      else if (g_str_has_prefix (item, "every ") || g_str_has_prefix (item, "every\t"))
        {
          if (!parse_duration_in_range (ps, g_strstrip (item + 6), &cadence.repeat, error))
            return FALSE;
        }
      else
        {
          if (strcmp (item, "off") == 0)
            return fail (ps, error, _("“off” cannot be mixed with reminders"));
          if (cadence.n_intervals == MOAT_POLICY_MAX_REMIND)
            return fail (ps, error, _("more than %d reminders before “every”"),
                         MOAT_POLICY_MAX_REMIND);
          if (!parse_duration_in_range (ps, item, &cadence.intervals[cadence.n_intervals], error))
            return FALSE;
          cadence.n_intervals++;
        }
    }
  ps->policy->remind = cadence;
  return TRUE;
}

/* `area.name`, `area.*` or `*` */
static gboolean
valid_check_pattern (const char *pattern)
{
  static const char *const areas[] = { "moat", "computer", "phone" };
  const char *dot = strchr (pattern, '.');
  gboolean area_ok = FALSE;

  if (strcmp (pattern, "*") == 0)
    return TRUE;
  if (dot == NULL || dot[1] == '\0' || strlen (pattern) > 64)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (areas); i++)
    area_ok = area_ok || ((gsize) (dot - pattern) == strlen (areas[i]) &&
                          strncmp (pattern, areas[i], dot - pattern) == 0);
  if (!area_ok)
    return FALSE;
  if (strcmp (dot + 1, "*") == 0)
    return TRUE;
  for (const char *p = dot + 1; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
parse_check_patterns (Parser *ps, const char *key, const char *value, GPtrArray **out,
                      GError **error)
{
  g_auto(GStrv) items = g_strsplit_set (value, ", \t", -1);
  g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func (g_free);
  gsize canonical_len = 0;

  for (guint i = 0; items[i] != NULL; i++)
    {
      gboolean known = FALSE;

      if (items[i][0] == '\0')
        continue;
      if (!valid_check_pattern (items[i]))
        return fail (ps, error, _("unknown check “%s”: write area.name, area.* or *, where the "
                                  "area is moat, computer or phone"), items[i]);
      for (guint j = 0; j < patterns->len; j++)
        known = known || g_str_equal (g_ptr_array_index (patterns, j), items[i]);
      if (known)
        continue;
      if (patterns->len == MOAT_POLICY_MAX_CHECK_PATTERNS)
        return fail (ps, error, _("more than %d checks in “%s”"), MOAT_POLICY_MAX_CHECK_PATTERNS,
                     key);
      g_ptr_array_add (patterns, g_strdup (items[i]));
    }
  if (patterns->len == 0)
    return fail (ps, error, _("“%s” names no check"), key);
  /* The canonical form, with ", " between the checks, must fit a line too. */
  for (guint i = 0; i < patterns->len; i++)
    canonical_len += strlen (g_ptr_array_index (patterns, i)) + (i > 0 ? 2 : 0);
  if (canonical_len > MAX_SETTING_VALUE)
    return fail (ps, error, _("the value of “%s” is longer than %d bytes"), key,
                 MAX_SETTING_VALUE);
  g_ptr_array_add (patterns, NULL);
  g_clear_pointer (out, g_ptr_array_unref);
  *out = g_steal_pointer (&patterns);
  return TRUE;
}

/* One address, local@domain, with nothing that could end a mail header. */
static gboolean
valid_email (const char *value)
{
  const char *at = strchr (value, '@');
  const char *domain;
  gsize label = 0;

  if (at == NULL || at == value || at - value > 64 || strchr (at + 1, '@') != NULL)
    return FALSE;
  if (value[0] == '.' || at[-1] == '.' || strstr (value, "..") != NULL)
    return FALSE;
  for (const char *p = value; p < at; p++)
    if (!g_ascii_isalnum (*p) && strchr ("!#$%&'*+/=?^_`{|}~.-", *p) == NULL)
      return FALSE;
  domain = at + 1;
  if (domain[0] == '\0' || strlen (domain) > 253)
    return FALSE;
  for (const char *p = domain;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0 || label > 63 || p[-1] == '-' || p[-label] == '-')
            return FALSE;
          if (*p == '\0')
            return TRUE;
          label = 0;
        }
      else if (g_ascii_isalnum (*p) || *p == '-')
        label++;
      else
        return FALSE;
    }
}

static gboolean
parse_severity_setting (Parser *ps, const char *key, const char *value, MoatSeverity *out,
                        GError **error)
{
  if (!moat_severity_from_string (value, out))
    return fail (ps, error, _("unknown severity “%s” for “%s”: use info, low, medium, high or "
                              "critical"), value, key);
  return TRUE;
}

static gboolean
parse_setting (Parser *ps, char *key, GError **error)
{
  MoatPolicy *policy = ps->policy;
  g_autofree char *owned_key = key;
  g_autofree char *value = NULL;
  guint which = N_SETTINGS;

  for (guint i = 0; i < N_SETTINGS; i++)
    if (strcmp (key, setting_names[i]) == 0)
      which = i;
  if (which == N_SETTINGS)
    {
      g_autoptr(GString) known = g_string_new (NULL);

      for (guint i = 0; i < N_SETTINGS; i++)
        g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", setting_names[i]);
      return fail (ps, error, _("unknown setting “%s” (known: %s)"), key, known->str);
    }
  /* protect may be given on several lines; each adds hosts. */
  if (ps->setting_lines[which] != 0 && which != SETTING_PROTECT)
    return fail (ps, error, _("“%s” is set twice (first on line %u)"), key,
                 ps->setting_lines[which]);

  ps->p++;   /* '=' */
  skip_space (ps);
  value = g_strstrip (g_strndup (ps->p, ps->end - ps->p));
  if (value[0] == '\0')
    return fail (ps, error, _("“%s” has no value"), key);
  if (strlen (value) > MAX_SETTING_VALUE)
    return fail (ps, error, _("the value of “%s” is longer than %d bytes"), key,
                 MAX_SETTING_VALUE);

  switch (which)
    {
    case SETTING_VPN:
      g_free (policy->vpn);
      policy->vpn = g_steal_pointer (&value);
      break;
    case SETTING_VPN_TIMEOUT:
      {
        guint64 seconds;

        if (!g_ascii_string_to_unsigned (value, 10, 1, MAX_VPN_TIMEOUT, &seconds, NULL))
          return fail (ps, error, _("vpn_timeout must be a number of seconds from 1 to %d"),
                       MAX_VPN_TIMEOUT);
        policy->vpn_timeout = (guint) seconds;
      }
      break;
    case SETTING_PROTECT:
      if (!parse_protected (ps, value, error))
        return FALSE;
      break;
    case SETTING_REMIND:
      if (!parse_remind (ps, value, error))
        return FALSE;
      break;
    case SETTING_REMIND_CHECKS:
      if (!parse_check_patterns (ps, key, value, &policy->remind_checks, error))
        return FALSE;
      break;
    case SETTING_REMIND_SEVERITY:
      if (!parse_severity_setting (ps, key, value, &policy->remind_severity, error))
        return FALSE;
      break;
    case SETTING_EMAIL:
      if (!valid_email (value))
        return fail (ps, error, _("“%s” is not an email address such as alerts@example.com"),
                     value);
      g_free (policy->email);
      policy->email = g_steal_pointer (&value);
      break;
    case SETTING_EMAIL_CHECKS:
      if (!parse_check_patterns (ps, key, value, &policy->email_checks, error))
        return FALSE;
      break;
    case SETTING_EMAIL_SEVERITY:
      if (!parse_severity_setting (ps, key, value, &policy->email_severity, error))
        return FALSE;
      break;
    case SETTING_GATEWAY:
    default:
      if (!valid_gateway (value))
        return fail (ps, error, _("gateway must be HOST:PORT, such as proxy.example.com:8080"));
      g_free (policy->gateway);
      policy->gateway = g_steal_pointer (&value);
      break;
    }
  ps->setting_lines[which] = ps->line;
  return TRUE;
}

static gboolean
parse_line (Parser *ps, const char *line, gsize len, GError **error)
{
  const char *hash = memchr (line, '#', len);
  g_autofree char *word = NULL;

  if (memchr (line, '\0', len) != NULL)
    return fail (ps, error, _("this is not text (it holds a NUL byte)"));
  if (!g_utf8_validate (line, len, NULL))
    return fail (ps, error, _("this is not UTF-8 text"));
  if (len > MOAT_POLICY_MAX_LINE)
    return fail (ps, error, _("the line is longer than %d bytes"), MOAT_POLICY_MAX_LINE);

  ps->p = line;
  ps->end = hash != NULL ? hash : line + len;
  /* A CR before the LF (a file from Windows) is a line end too. */
  while (ps->end > ps->p && (ps->end[-1] == '\r' || ps->end[-1] == ' ' || ps->end[-1] == '\t'))
    ps->end--;
  skip_space (ps);
  if (ps->p == ps->end)
    return TRUE;

  word = take_word (ps);
  if (word == NULL)
    {
      g_autofree char *rest = rest_for_message (ps);

      return fail (ps, error, _("expected a threat or a setting, found “%s”"), rest);
    }
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == '=')
    return parse_setting (ps, g_steal_pointer (&word), error);
  return parse_rule (ps, g_steal_pointer (&word), error);
}

/**
 * moat_policy_parse:
 * @name: what to call the file in messages (its path, usually)
 * @text: the file's contents; need not be NUL-terminated when @length is given
 * @length: its length, or -1
 * @error: "NAME:LINE: reason" (MOAT_ERROR_INVALID_ARGUMENT) for the first fault
 *
 * Returns: (transfer full) (nullable): the policy, or NULL when any line is
 *   wrong: a policy is taken whole or not at all
 */
MoatPolicy *
moat_policy_parse (const char *name, const char *text, gssize length, GError **error)
{
  g_autoptr(MoatPolicy) policy = NULL;
  Parser ps = { 0 };
  gsize len;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = length < 0 ? strlen (text) : (gsize) length;
  if (len > MOAT_POLICY_MAX_SIZE)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   _("%s: the file is larger than %d KiB"), name, MOAT_POLICY_MAX_SIZE / 1024);
      return NULL;
    }

  policy = g_new0 (MoatPolicy, 1);
  g_atomic_ref_count_init (&policy->ref_count);
  policy->name = g_strdup (name);
  policy->rules = g_array_new (FALSE, TRUE, sizeof (MoatPolicyRule));
  g_array_set_clear_func (policy->rules, rule_clear);
  policy->vpn_timeout = DEFAULT_VPN_TIMEOUT;
  policy->protected_hosts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (policy->protected_hosts, NULL);
  policy->remind = default_remind;
  policy->remind_severity = DEFAULT_ALERT_SEVERITY;
  policy->email_severity = DEFAULT_ALERT_SEVERITY;

  ps.policy = policy;
  ps.name = name;
  for (const char *line = text, *stop = text + len; line < stop;)
    {
      const char *nl = memchr (line, '\n', stop - line);
      gsize line_len = (nl != NULL ? nl : stop) - line;

      ps.line++;
      if (!parse_line (&ps, line, line_len, error))
        return NULL;
      line += line_len + (nl != NULL ? 1 : 0);
    }
  return g_steal_pointer (&policy);
}

/**
 * moat_policy_load_file:
 * @path: a policy file
 *
 * Reads and parses @path (see moat_policy_parse()). Blocking: call it off
 * the main loop.
 */
MoatPolicy *
moat_policy_load_file (const char *path, GError **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, "%s", local_error->message);
      return NULL;
    }
  return moat_policy_parse (path, g_mapped_file_get_contents (file),
                            g_mapped_file_get_length (file), error);
}

/* ---- queries ---- */

const char *
moat_policy_get_name (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

guint
moat_policy_get_n_rules (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->rules->len;
}

const MoatPolicyRule *
moat_policy_get_rule (MoatPolicy *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->rules->len, NULL);
  return &g_array_index (self->rules, MoatPolicyRule, index);
}

/**
 * moat_policy_match:
 * @threat: a threat id
 * @severity: how bad this occurrence is
 *
 * Returns: (nullable): the first rule for @threat at @severity, or NULL when
 *   the policy says nothing about it
 */
const MoatPolicyRule *
moat_policy_match (MoatPolicy *self, const char *threat, MoatSeverity severity)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (threat != NULL, NULL);

  for (guint i = 0; i < self->rules->len; i++)
    {
      const MoatPolicyRule *rule = &g_array_index (self->rules, MoatPolicyRule, i);

      if (severity >= rule->min_severity && moat_threat_id_matches (threat, rule->pattern))
        return rule;
    }
  return NULL;
}

/* The VPN connection (NetworkManager id) vpn_on_demand brings up, or NULL. */
const char *
moat_policy_get_vpn (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->vpn;
}

/* Seconds vpn_on_demand waits for the VPN before it counts as failed. */
guint
moat_policy_get_vpn_timeout (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, DEFAULT_VPN_TIMEOUT);
  return self->vpn_timeout;
}

/**
 * moat_policy_get_protected_hosts:
 *
 * Returns: (transfer none) (array zero-terminated=1): the company's protected
 *   resources, canonical host names (each covering its subdomains) and
 *   addresses; empty when the policy names none
 */
const char * const *
moat_policy_get_protected_hosts (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return (const char * const *) self->protected_hosts->pdata;
}

/* HOST:PORT of the web gateway for route_via_gateway, or NULL. */
const char *
moat_policy_get_gateway (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->gateway;
}

/**
 * moat_policy_get_remind:
 *
 * Returns: (transfer none): when to remind the user of a health problem
 *   that is not fixed; by default now, after 1 day, then every 3 days
 */
const MoatPolicyCadence *
moat_policy_get_remind (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, &default_remind);
  return &self->remind;
}

/**
 * moat_policy_get_remind_checks:
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the health
 *   checks reminded of (`area.name`, `area.*` or `*`); NULL for every check
 */
const char * const *
moat_policy_get_remind_checks (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->remind_checks != NULL ? (const char * const *) self->remind_checks->pdata : NULL;
}

/* The least severity of a health problem that is reminded of: medium by default. */
MoatSeverity
moat_policy_get_remind_severity (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, DEFAULT_ALERT_SEVERITY);
  return self->remind_severity;
}

/* The address email alerts go to, or NULL when the policy names none. */
const char *
moat_policy_get_email (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->email;
}

/**
 * moat_policy_get_email_checks:
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): the health
 *   checks that send an email alert; NULL for every check
 */
const char * const *
moat_policy_get_email_checks (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->email_checks != NULL ? (const char * const *) self->email_checks->pdata : NULL;
}

/* The least severity of a health problem that sends an email: medium by default. */
MoatSeverity
moat_policy_get_email_severity (MoatPolicy *self)
{
  g_return_val_if_fail (self != NULL, DEFAULT_ALERT_SEVERITY);
  return self->email_severity;
}

static void
append_duration (GString *s, gint64 us)
{
  static const struct {
    char   unit;
    gint64 us;
  } units[] = {
    { 'w', 7 * G_TIME_SPAN_DAY }, { 'd', G_TIME_SPAN_DAY }, { 'h', G_TIME_SPAN_HOUR },
    { 'm', G_TIME_SPAN_MINUTE }, { 's', G_TIME_SPAN_SECOND },
  };

  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (us % units[i].us == 0)
      {
        g_string_append_printf (s, "%" G_GINT64_FORMAT "%c", us / units[i].us, units[i].unit);
        return;
      }
  g_string_append_printf (s, "%" G_GINT64_FORMAT "s", us / G_TIME_SPAN_SECOND);
}

static void
append_checks (GString *s, const char *key, GPtrArray *checks)
{
  g_string_append_printf (s, "%s = ", key);
  for (guint i = 0; i + 1 < checks->len; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "",
                            (const char *) g_ptr_array_index (checks, i));
  g_string_append_c (s, '\n');
}

/**
 * moat_policy_to_string:
 *
 * The policy in its canonical form: settings, then rules in order, one per
 * line. Parsing it gives the same policy.
 */
char *
moat_policy_to_string (MoatPolicy *self)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_return_val_if_fail (self != NULL, NULL);

  if (self->vpn != NULL)
    g_string_append_printf (s, "vpn = %s\n", self->vpn);
  if (self->vpn_timeout != DEFAULT_VPN_TIMEOUT)
    g_string_append_printf (s, "vpn_timeout = %u\n", self->vpn_timeout);
  if (self->gateway != NULL)
    g_string_append_printf (s, "gateway = %s\n", self->gateway);
  for (guint i = 0; i + 1 < self->protected_hosts->len; i++)
    g_string_append_printf (s, "protect = %s\n",
                            (const char *) g_ptr_array_index (self->protected_hosts, i));
  if (memcmp (&self->remind, &default_remind, sizeof default_remind) != 0)
    {
      g_string_append (s, "remind = ");
      if (self->remind.n_intervals == 0 && self->remind.repeat == 0)
        g_string_append (s, "off");
      for (guint i = 0; i < self->remind.n_intervals; i++)
        {
          if (i > 0)
            g_string_append (s, ", ");
          if (self->remind.intervals[i] == 0)
            g_string_append (s, "now");
          else
            append_duration (s, self->remind.intervals[i]);
        }
      if (self->remind.repeat != 0)
        {
          g_string_append (s, self->remind.n_intervals > 0 ? ", every " : "every ");
          append_duration (s, self->remind.repeat);
        }
      g_string_append_c (s, '\n');
    }
  if (self->remind_checks != NULL)
    append_checks (s, "remind_checks", self->remind_checks);
  if (self->remind_severity != DEFAULT_ALERT_SEVERITY)
    g_string_append_printf (s, "remind_severity = %s\n",
                            moat_severity_to_string (self->remind_severity));
  if (self->email != NULL)
    g_string_append_printf (s, "email = %s\n", self->email);
  if (self->email_checks != NULL)
    append_checks (s, "email_checks", self->email_checks);
  if (self->email_severity != DEFAULT_ALERT_SEVERITY)
    g_string_append_printf (s, "email_severity = %s\n",
                            moat_severity_to_string (self->email_severity));
  for (guint i = 0; i < self->rules->len; i++)
    {
      const MoatPolicyRule *rule = &g_array_index (self->rules, MoatPolicyRule, i);

      g_string_append (s, rule->pattern);
      if (rule->min_severity != MOAT_SEVERITY_INFO)
        g_string_append_printf (s, " >= %s", moat_severity_to_string (rule->min_severity));
      g_string_append (s, ":");
      for (guint c = 0; c < rule->n_chains; c++)
        {
          g_string_append (s, c > 0 ? "; " : " ");
          for (guint a = 0; a < rule->chains[c].n_actions; a++)
            g_string_append_printf (s, "%s%s", a > 0 ? " || " : "",
                                    action_names[rule->chains[c].actions[a]]);
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}
