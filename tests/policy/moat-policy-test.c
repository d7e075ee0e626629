/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-policy-test"

#include "config.h"

#include "moat-error.h"
#include "moat-policy.h"

#include <string.h>

static MoatPolicy *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  MoatPolicy *policy = moat_policy_parse ("test.policy", text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (policy);
  return policy;
}

/* Every rule of a good file, with settings, comments and odd spacing. */
static void
test_parse (void)
{
  g_autoptr(MoatPolicy) policy = parse_ok (
    "# a comment\n"
    "\n"
    "vpn = Company VPN   # the NetworkManager connection\n"
    "vpn_timeout=45\n"
    "gateway = [2001:db8::1]:3128\n"
    "   network.tls_interception >= high : vpn_on_demand||block_protected_resources ; notify\r\n"
    "network.*:notify;\n"
    "content.c2: block_host\n"
    "*: notify");
  const MoatPolicyRule *rule;

  g_assert_cmpstr (moat_policy_get_vpn (policy), ==, "Company VPN");
  g_assert_cmpuint (moat_policy_get_vpn_timeout (policy), ==, 45);
  g_assert_cmpstr (moat_policy_get_gateway (policy), ==, "[2001:db8::1]:3128");
  g_assert_cmpuint (moat_policy_get_n_rules (policy), ==, 4);

  rule = moat_policy_get_rule (policy, 0);
  g_assert_cmpstr (rule->pattern, ==, "network.tls_interception");
  g_assert_cmpint (rule->min_severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpuint (rule->line, ==, 6);
  g_assert_cmpuint (rule->n_chains, ==, 2);
  g_assert_cmpuint (rule->chains[0].n_actions, ==, 2);
  g_assert_cmpint (rule->chains[0].actions[0], ==, MOAT_ACTION_VPN_ON_DEMAND);
  g_assert_cmpint (rule->chains[0].actions[1], ==, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES);
  g_assert_cmpuint (rule->chains[1].n_actions, ==, 1);
  g_assert_cmpint (rule->chains[1].actions[0], ==, MOAT_ACTION_NOTIFY);

  rule = moat_policy_get_rule (policy, 1);
  g_assert_cmpstr (rule->pattern, ==, "network.*");
  g_assert_cmpint (rule->min_severity, ==, MOAT_SEVERITY_INFO);
  g_assert_cmpuint (rule->n_chains, ==, 1);
  g_assert_cmpuint (moat_policy_get_rule (policy, 3)->line, ==, 9);
}

/* The first rule that matches applies; severity bounds it from below. */
static void
test_match (void)
{
  g_autoptr(MoatPolicy) policy = parse_ok (
    "network.rogue_wifi: disconnect_wifi; notify\n"
    "network.* >= medium: vpn_on_demand || block_protected_resources; notify\n"
    "network.*: notify\n"
    "content.c2: block_host\n");
  static const struct {
    const char  *threat;
    MoatSeverity severity;
    int          rule;   /* index, -1 for none */
  } cases[] = {
    { "network.rogue_wifi", MOAT_SEVERITY_INFO, 0 },
    { "network.rogue_wifi", MOAT_SEVERITY_CRITICAL, 0 },
    { "network.tls_interception", MOAT_SEVERITY_MEDIUM, 1 },
    { "network.tls_interception", MOAT_SEVERITY_CRITICAL, 1 },
    { "network.tls_interception", MOAT_SEVERITY_LOW, 2 },
    { "network.open_wifi", MOAT_SEVERITY_INFO, 2 },
    { "content.c2", MOAT_SEVERITY_HIGH, 3 },
    { "content.phishing", MOAT_SEVERITY_HIGH, -1 },
    { "os.rooted", MOAT_SEVERITY_CRITICAL, -1 },
    /* a vector pattern is not a prefix of a longer vector name */
    { "networks.x", MOAT_SEVERITY_HIGH, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const MoatPolicyRule *rule = moat_policy_match (policy, cases[i].threat, cases[i].severity);

      g_test_message ("%s at %s", cases[i].threat, moat_severity_to_string (cases[i].severity));
      if (cases[i].rule < 0)
        g_assert_null (rule);
      else
        g_assert_true (rule == moat_policy_get_rule (policy, cases[i].rule));
    }
}

/* A broken file is refused whole, with file:line and the reason. */
static void
test_errors (void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "network.*: notfiy\n",
      "test.policy:1: unknown action “notfiy” (known: vpn_on_demand, block_protected_resources, "
      "route_via_gateway, disconnect_wifi, disable_vpn, block_host, notify)" },
    { "# ok\nnetwork.* >= hihg: notify\n",
      "test.policy:2: unknown severity “hihg”: use info, low, medium, high or critical" },
    { "network.* >=: notify\n",
      "test.policy:1: unknown severity “”: use info, low, medium, high or critical" },
    { "netwrok.*: notify\n",
      "test.policy:1: unknown threat “netwrok.*”: write vector.kind, vector.* or *, where the "
      "vector is network, content, app, os or moat" },
    { "network.TLS: notify\n",
      "test.policy:1: unknown threat “network.TLS”: write vector.kind, vector.* or *, where the "
      "vector is network, content, app, os or moat" },
    { "network.* notify\n", "test.policy:1: expected “:” and actions after “network.*”" },
    { "network.*:\n", "test.policy:1: no actions after “:”" },
    { "network.*: # nothing\n", "test.policy:1: no actions after “:”" },
    { "network.*: notify ;; block_host\n", "test.policy:1: expected an action, found “; block_host”" },
    { "network.*: vpn_on_demand ||\n",
      "test.policy:1: an action is missing at the end of the line" },
    { "network.*: notify block_host\n",
      "test.policy:1: expected “;” or “||” before “block_host”" },
    { "network.*: notify || block_host\n",
      "test.policy:1: “block_host” can never run: “notify” before it never fails" },
    { "network.*: block_host || block_host\n", "test.policy:1: “block_host” twice in one chain" },
    { "network.*: block_host; notify; block_host\n",
      "test.policy:1: “block_host” is in two chains of this rule" },
    { "network.*: notify\nnetwork.tls_interception >= high: vpn_on_demand\n",
      "test.policy:2: this rule never applies: the rule on line 1 comes first and covers the same "
      "threats" },
    { "*: notify\ncontent.c2: block_host\n",
      "test.policy:2: this rule never applies: the rule on line 1 comes first and covers the same "
      "threats" },
    { "network.* >= low: notify\nnetwork.* >= high: block_host\n",
      "test.policy:2: this rule never applies: the rule on line 1 comes first and covers the same "
      "threats" },
    { "vpn = A\nvpn = B\n", "test.policy:2: “vpn” is set twice (first on line 1)" },
    { "vpn =\n", "test.policy:1: “vpn” has no value" },
    { "vpnn = A\n",
      "test.policy:1: unknown setting “vpnn” (known: vpn, vpn_timeout, gateway, protect, remind, "
      "remind_checks, remind_severity, email, email_checks, email_severity)" },
    { "protect = *.example.com\n",
      "test.policy:1: “*.example.com” is not a host name or an address (protect takes names such "
      "as intranet.example.com, which cover their subdomains)" },
    { "protect = a.example.com\nprotect = wiki.example.com:443\n",
      "test.policy:2: “wiki.example.com:443” is not a host name or an address (protect takes "
      "names such as intranet.example.com, which cover their subdomains)" },
    { "protect = http://wiki.example.com\n",
      "test.policy:1: “http://wiki.example.com” is not a host name or an address (protect takes "
      "names such as intranet.example.com, which cover their subdomains)" },
    { "protect = ,\n", "test.policy:1: “protect” names no host" },
    { "vpn_timeout = 0\n", "test.policy:1: vpn_timeout must be a number of seconds from 1 to 600" },
    { "vpn_timeout = 30s\n",
      "test.policy:1: vpn_timeout must be a number of seconds from 1 to 600" },
    { "gateway = proxy.example.com\n",
      "test.policy:1: gateway must be HOST:PORT, such as proxy.example.com:8080" },
    { "gateway = proxy.example.com:70000\n",
      "test.policy:1: gateway must be HOST:PORT, such as proxy.example.com:8080" },
    { "gateway = a b:80\n",
      "test.policy:1: gateway must be HOST:PORT, such as proxy.example.com:8080" },
    { "remind = now, 1x\n",
      "test.policy:1: “1x” is not a duration: write a number and s, m, h, d or w, such as 30m or "
      "1d" },
    { "remind = 1 d\n",
      "test.policy:1: “1 d” is not a duration: write a number and s, m, h, d or w, such as 30m or "
      "1d" },
    { "remind = now, 30s\n",
      "test.policy:1: “30s”: a reminder’s delay must be from 1 minute to 365 days" },
    { "remind = every 366d\n",
      "test.policy:1: “366d”: a reminder’s delay must be from 1 minute to 365 days" },
    { "remind = 4000000000w\n",
      "test.policy:1: “4000000000w”: a reminder’s delay must be from 1 minute to 365 days" },
    { "remind = 1d, now\n", "test.policy:1: “now” can only come first" },
    { "remind = now, every 1d, 2d\n", "test.policy:1: “every …” can only come last" },
    { "remind = now,, 1d\n",
      "test.policy:1: “remind” has an empty item: write such as now, 1d, every 3d, or off" },
    { "remind = now, off\n", "test.policy:1: “off” cannot be mixed with reminders" },
    { "remind = now, 1h, 2h, 3h, 4h, 5h, 6h, 7h, 8h\n",
      "test.policy:1: more than 8 reminders before “every”" },
    { "remind = off\nremind = now\n", "test.policy:2: “remind” is set twice (first on line 1)" },
    { "remind_checks = disk_encryption\n",
      "test.policy:1: unknown check “disk_encryption”: write area.name, area.* or *, where the "
      "area is moat, computer or phone" },
    { "email_checks = network.*\n",
      "test.policy:1: unknown check “network.*”: write area.name, area.* or *, where the area is "
      "moat, computer or phone" },
    { "remind_checks = computer.Disk\n",
      "test.policy:1: unknown check “computer.Disk”: write area.name, area.* or *, where the "
      "area is moat, computer or phone" },
    { "remind_checks = ,\n", "test.policy:1: “remind_checks” names no check" },
    /* 239 bytes here, 268 in the canonical form (", " between checks). */
    { "email_checks = moat.aa moat.ab moat.ac moat.ad moat.ae moat.af moat.ag moat.ah "
      "moat.ai moat.aj moat.ak moat.al moat.am moat.an moat.ao moat.ap "
      "moat.aq moat.ar moat.as moat.at moat.au moat.av moat.aw moat.ax "
      "moat.ay moat.az moat.ba moat.bb moat.bc moat.bd\n",
      "test.policy:1: the value of “email_checks” is longer than 255 bytes" },
    { "remind_severity = severe\n",
      "test.policy:1: unknown severity “severe” for “remind_severity”: use info, low, medium, "
      "high or critical" },
    { "email_severity = \n", "test.policy:1: “email_severity” has no value" },
    { "email = alerts\n",
      "test.policy:1: “alerts” is not an email address such as alerts@example.com" },
    { "email = a@b.example, c@d.example\n",
      "test.policy:1: “a@b.example, c@d.example” is not an email address such as "
      "alerts@example.com" },
    { "email = alerts@example.com\r\nBcc: x@evil.example\n",
      "test.policy:2: unknown threat “Bcc”: write vector.kind, vector.* or *, where the vector "
      "is network, content, app, os or moat" },
    { "email = <alerts@example.com>\n",
      "test.policy:1: “<alerts@example.com>” is not an email address such as alerts@example.com" },
    { "email = alerts@-example.com\n",
      "test.policy:1: “alerts@-example.com” is not an email address such as alerts@example.com" },
    { "email = al..erts@example.com\n",
      "test.policy:1: “al..erts@example.com” is not an email address such as "
      "alerts@example.com" },
    { ": notify\n", "test.policy:1: expected a threat or a setting, found “: notify”" },
    { "\n\n\xff\xfe: notify\n", "test.policy:3: this is not UTF-8 text" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MoatPolicy) policy = moat_policy_parse ("test.policy", cases[i].text, -1, &error);

      g_test_message ("case %u: %s", i, cases[i].text);
      g_assert_null (policy);
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

/* Hostile input: a NUL byte, a huge line, a huge file, too many of anything. */
static void
test_limits (void)
{
  static const char nul[] = "network.*: notify\nnetwork\0.x: notify\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = NULL;
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *big = NULL;

  policy = moat_policy_parse ("test.policy", nul, sizeof nul - 1, &error);
  g_assert_null (policy);
  g_assert_cmpstr (error->message, ==, "test.policy:2: this is not text (it holds a NUL byte)");
  g_clear_error (&error);

  g_string_append (s, "# ");
  for (guint i = 0; i < MOAT_POLICY_MAX_LINE; i++)
    g_string_append_c (s, 'x');
  policy = moat_policy_parse ("test.policy", s->str, -1, &error);
  g_assert_null (policy);
  g_assert_cmpstr (error->message, ==, "test.policy:1: the line is longer than 1024 bytes");
  g_clear_error (&error);

  big = g_malloc (MOAT_POLICY_MAX_SIZE + 1);
  memset (big, '\n', MOAT_POLICY_MAX_SIZE + 1);
  policy = moat_policy_parse ("test.policy", big, MOAT_POLICY_MAX_SIZE + 1, &error);
  g_assert_null (policy);
  g_assert_cmpstr (error->message, ==, "test.policy: the file is larger than 256 KiB");
  g_clear_error (&error);

  g_string_truncate (s, 0);
  g_string_append (s, "network.*:");
  for (guint i = 0; i <= MOAT_POLICY_MAX_CHAINS; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ";" : "",
                            moat_action_to_string (i % MOAT_ACTION_LAST));
  policy = moat_policy_parse ("test.policy", s->str, -1, &error);
  g_assert_null (policy);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "test.policy:1: "));
  g_clear_error (&error);

  /* As many rules as allowed load; one more is refused. */
  g_string_truncate (s, 0);
  for (guint i = 0; i <= MOAT_POLICY_MAX_RULES; i++)
    g_string_append_printf (s, "app.k%u: notify\n", i);
  policy = moat_policy_parse ("test.policy", s->str, -1, &error);
  g_assert_null (policy);
  g_assert_cmpstr (error->message, ==, "test.policy:513: more than 512 rules");
  g_clear_error (&error);
}

/* The canonical form parses back to the same policy. */
static void
test_round_trip (void)
{
  g_autoptr(MoatPolicy) policy = parse_ok (
    "gateway = gw.example.com:8080\n"
    "protect = Intranet.Example.COM, 10.1.2.3 wiki.example.org\n"
    "vpn = Work\n"
    "protect = ::1, intranet.example.com\n"
    "network.* >= medium: vpn_on_demand || route_via_gateway || block_protected_resources; notify\n"
    "app.*: block_host\n");
  g_autofree char *text = moat_policy_to_string (policy);
  g_autoptr(MoatPolicy) again = parse_ok (text);
  g_autofree char *text2 = moat_policy_to_string (again);

  g_assert_cmpstr (text, ==,
                   "vpn = Work\n"
                   "gateway = gw.example.com:8080\n"
                   "protect = intranet.example.com\n"
                   "protect = 10.1.2.3\n"
                   "protect = wiki.example.org\n"
                   "protect = ::1\n"
                   "network.* >= medium: vpn_on_demand || route_via_gateway || "
                   "block_protected_resources; notify\n"
                   "app.*: block_host\n");
  g_assert_cmpstr (text2, ==, text);
}

/* The policy Moat ships is valid and does what its comments say. */
static void
test_default_policy (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "data", "policy",
                                            "default.policy", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_load_file (path, &error);
  const MoatPolicyRule *rule;

  g_assert_no_error (error);
  g_assert_nonnull (policy);

  /* TLS interception: VPN on demand, else wall off the company's resources. */
  rule = moat_policy_match (policy, "network.tls_interception", MOAT_SEVERITY_HIGH);
  g_assert_nonnull (rule);
  g_assert_cmpuint (rule->n_chains, ==, 2);
  g_assert_cmpint (rule->chains[0].actions[0], ==, MOAT_ACTION_VPN_ON_DEMAND);
  g_assert_cmpint (rule->chains[0].actions[1], ==, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES);
  g_assert_cmpint (rule->chains[1].actions[0], ==, MOAT_ACTION_NOTIFY);

  rule = moat_policy_match (policy, "network.malicious_vpn", MOAT_SEVERITY_HIGH);
  g_assert_cmpint (rule->chains[0].actions[0], ==, MOAT_ACTION_DISABLE_VPN);
  rule = moat_policy_match (policy, "network.rogue_wifi", MOAT_SEVERITY_HIGH);
  g_assert_cmpint (rule->chains[0].actions[0], ==, MOAT_ACTION_DISCONNECT_WIFI);
  rule = moat_policy_match (policy, "content.c2", MOAT_SEVERITY_CRITICAL);
  g_assert_cmpint (rule->chains[0].actions[0], ==, MOAT_ACTION_BLOCK_HOST);
  /* Info-level noise gets nothing. */
  g_assert_null (moat_policy_match (policy, "content.ads", MOAT_SEVERITY_INFO));
}

/* The README's example is the documentation admins copy: it must parse. */
static void
test_readme_example (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "README.md", NULL);
  g_autofree char *readme = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = NULL;
  const char *section, *start, *end;

  g_assert_true (g_file_get_contents (path, &readme, NULL, &error));
  section = strstr (readme, "\n## Policy");
  g_assert_nonnull (section);
  start = strstr (section, "\n```\n");
  g_assert_nonnull (start);
  start += 5;
  end = strstr (start, "\n```\n");
  g_assert_nonnull (end);
  policy = moat_policy_parse ("README.md", start, end - start + 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (moat_policy_get_vpn (policy), ==, "Company VPN");
  g_assert_cmpuint (moat_policy_get_n_rules (policy), ==, 10);
}

/* Health reminders and email alerts: what an admin sets, and the defaults. */
static void
test_remind (void)
{
  g_autoptr(MoatPolicy) defaults = parse_ok ("*: notify\n");
  g_autoptr(MoatPolicy) policy = parse_ok (
    "remind = now , 12h,1d, every 1w  # then weekly\n"
    "remind_checks = computer.*, moat.store computer.*\n"
    "remind_severity = high\n"
    "email = it+moat@Example.COM\n"
    "email_checks = computer.disk_encryption, moat.*\n"
    "email_severity = critical\n");
  g_autoptr(MoatPolicy) off = parse_ok ("remind = off\nremind_checks = *\n");
  g_autoptr(MoatPolicy) repeat_only = parse_ok ("remind = every 90m\n");
  const MoatPolicyCadence *cadence;
  const char * const *checks;

  cadence = moat_policy_get_remind (defaults);
  g_assert_cmpuint (cadence->n_intervals, ==, 2);
  g_assert_cmpint (cadence->intervals[0], ==, 0);
  g_assert_cmpint (cadence->intervals[1], ==, G_TIME_SPAN_DAY);
  g_assert_cmpint (cadence->repeat, ==, 3 * G_TIME_SPAN_DAY);
  g_assert_null (moat_policy_get_remind_checks (defaults));
  g_assert_cmpint (moat_policy_get_remind_severity (defaults), ==, MOAT_SEVERITY_MEDIUM);
  g_assert_null (moat_policy_get_email (defaults));
  g_assert_null (moat_policy_get_email_checks (defaults));
  g_assert_cmpint (moat_policy_get_email_severity (defaults), ==, MOAT_SEVERITY_MEDIUM);

  cadence = moat_policy_get_remind (policy);
  g_assert_cmpuint (cadence->n_intervals, ==, 3);
  g_assert_cmpint (cadence->intervals[0], ==, 0);
  g_assert_cmpint (cadence->intervals[1], ==, 12 * G_TIME_SPAN_HOUR);
  g_assert_cmpint (cadence->intervals[2], ==, G_TIME_SPAN_DAY);
  g_assert_cmpint (cadence->repeat, ==, 7 * G_TIME_SPAN_DAY);
  checks = moat_policy_get_remind_checks (policy);
  g_assert_nonnull (checks);
  g_assert_cmpuint (g_strv_length ((GStrv) checks), ==, 2);
  g_assert_cmpstr (checks[0], ==, "computer.*");
  g_assert_cmpstr (checks[1], ==, "moat.store");
  g_assert_cmpint (moat_policy_get_remind_severity (policy), ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (moat_policy_get_email (policy), ==, "it+moat@Example.COM");
  checks = moat_policy_get_email_checks (policy);
  g_assert_cmpuint (g_strv_length ((GStrv) checks), ==, 2);
  g_assert_cmpstr (checks[0], ==, "computer.disk_encryption");
  g_assert_cmpstr (checks[1], ==, "moat.*");
  g_assert_cmpint (moat_policy_get_email_severity (policy), ==, MOAT_SEVERITY_CRITICAL);
  /* Settings are not rules. */
  g_assert_cmpuint (moat_policy_get_n_rules (policy), ==, 0);

  cadence = moat_policy_get_remind (off);
  g_assert_cmpuint (cadence->n_intervals, ==, 0);
  g_assert_cmpint (cadence->repeat, ==, 0);
  g_assert_cmpstr (moat_policy_get_remind_checks (off)[0], ==, "*");
  cadence = moat_policy_get_remind (repeat_only);
  g_assert_cmpuint (cadence->n_intervals, ==, 0);
  g_assert_cmpint (cadence->repeat, ==, 90 * G_TIME_SPAN_MINUTE);
}

/* The reminder settings print in canonical form and parse back the same. */
static void
test_remind_round_trip (void)
{
  static const struct {
    const char *text;
    const char *canonical;
  } cases[] = {
    { "remind = now, 1d, every 3d\n", "" },
    { "remind = 24h, 1440m, every 14d\n", "remind = 1d, 1d, every 2w\n" },
    { "remind = 90s, every 3600s\n", "remind = 90s, every 1h\n" },
    { "remind = OFF\n", NULL },
    { "remind=off\n", "remind = off\n" },
    { "remind = every 2d\n", "remind = every 2d\n" },
    { "remind = now\n", "remind = now\n" },
    { "email_severity = high\nemail = a@b.example\nremind_severity = low\n"
      "email_checks = *\nremind_checks = phone.*,moat.lists_fresh\n",
      "remind_checks = phone.*, moat.lists_fresh\n"
      "remind_severity = low\n"
      "email = a@b.example\n"
      "email_checks = *\n"
      "email_severity = high\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MoatPolicy) policy = moat_policy_parse ("test.policy", cases[i].text, -1, &error);
      g_autoptr(MoatPolicy) again = NULL;
      g_autofree char *text = NULL;
      g_autofree char *text2 = NULL;

      g_test_message ("case %u: %s", i, cases[i].text);
      if (cases[i].canonical == NULL)
        {
          g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
          continue;
        }
      g_assert_no_error (error);
      text = moat_policy_to_string (policy);
      g_assert_cmpstr (text, ==, cases[i].canonical);
      again = parse_ok (text);
      text2 = moat_policy_to_string (again);
      g_assert_cmpstr (text2, ==, text);
    }
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_load_file ("/nonexistent/moat.policy", &error);

  g_assert_null (policy);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/moat/policy/parse", test_parse);
  g_test_add_func ("/moat/policy/match", test_match);
  g_test_add_func ("/moat/policy/errors", test_errors);
  g_test_add_func ("/moat/policy/limits", test_limits);
  g_test_add_func ("/moat/policy/round-trip", test_round_trip);
  g_test_add_func ("/moat/policy/default", test_default_policy);
  g_test_add_func ("/moat/policy/readme-example", test_readme_example);
  g_test_add_func ("/moat/policy/missing-file", test_missing_file);
  g_test_add_func ("/moat/policy/remind", test_remind);
  g_test_add_func ("/moat/policy/remind-round-trip", test_remind_round_trip);
  return g_test_run ();
}
