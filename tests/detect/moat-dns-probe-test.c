/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The DNS probe against a UDP responder on 127.0.0.1 written here, which can
 * answer honestly, lie, rewrite NXDOMAIN, send garbage, cut its replies,
 * stay silent or spoof ids.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "moat-dns-probe.h"
#include "moat-dns-probe-private.h"
#include "moat-error.h"

#define PINNED_NAME "www.moat.test"
#define PINNED_ADDR "10.202.9.9"
#define LIE_ADDR    "10.202.66.66"

typedef enum {
  MODE_HONEST,
  MODE_LIE,
  MODE_NXDOMAIN_REWRITE,
  MODE_CNAME,
  MODE_GARBAGE,
  MODE_CUT,
  MODE_TC,
  MODE_SILENT,
  MODE_WRONG_ID,
  MODE_SPOOF_FIRST,
  MODE_AD,
  MODE_SERVFAIL,
} Mode;

typedef struct {
  GSocket             *socket;
  GSource             *source;
  Mode                 mode;
  const char          *aaaa_answer;  /* for the pinned name; NULL: no data */
  guint                queries;
  gboolean             saw_do_bit;
  char                *resolver;     /* "127.0.0.1:PORT" */
  MoatDnsProbeOptions *options;
  GPtrArray           *findings;
  GError              *error;
  gboolean             done;
} Fixture;

/* The responder */

static gboolean
parse_query (const guint8 *buf, gsize len, guint16 *id, char **qname, guint16 *qtype,
             gsize *question_end, gboolean *do_bit)
{
  g_autoptr(GString) name = g_string_new (NULL);
  gsize pos = 12;

  if (len < 12)
    return FALSE;
  *id = (buf[0] << 8) | buf[1];
  while (pos < len && buf[pos] != 0)
    {
      guint8 n = buf[pos];

      if (n > 63 || pos + 1 + n > len)
        return FALSE;
      if (name->len > 0)
        g_string_append_c (name, '.');
      g_string_append_len (name, (const char *) buf + pos + 1, n);
      pos += n + 1;
    }
  if (pos + 5 > len)
    return FALSE;
  *qtype = (buf[pos + 1] << 8) | buf[pos + 2];
  *question_end = pos + 5;
  /* An OPT record right after the question: root, type 41, size, rcode,
   * version, flags (DO is the top bit). */
  *do_bit = len >= pos + 5 + 11 && buf[pos + 5] == 0 && buf[pos + 7] == 41 &&
            (buf[pos + 5 + 7] & 0x80) != 0;
  *qname = g_string_free (g_steal_pointer (&name), FALSE);
  return TRUE;
}

static void
append_u16 (GByteArray *msg, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };

  g_byte_array_append (msg, b, 2);
}

static void
append_record (GByteArray *msg, guint16 name_ptr, guint16 type, const guint8 *rdata,
               guint16 rdlength)
{
  append_u16 (msg, 0xc000 | name_ptr);
  append_u16 (msg, type);
  append_u16 (msg, 1);
  append_u16 (msg, 0);
  append_u16 (msg, 300);
  append_u16 (msg, rdlength);
  g_byte_array_append (msg, rdata, rdlength);
}

static void
append_a (GByteArray *msg, guint16 name_ptr, const char *text)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (text);

  append_record (msg, name_ptr, MOAT_DNS_TYPE_A, g_inet_address_to_bytes (address), 4);
}

static GByteArray *
build_reply (Fixture *fixture, const guint8 *query, gsize question_end, guint16 id,
             const char *qname, guint16 qtype)
{
  GByteArray *msg = g_byte_array_new ();
  gboolean pinned = g_ascii_strcasecmp (qname, PINNED_NAME) == 0;
  gboolean answer = FALSE;
  guint16 flags = 0x8180; /* QR RD RA */
  guint8 header[12];

  /* Header written last; question copied from the query. */
  g_byte_array_append (msg, query, question_end);
  msg->data[0] = id >> 8;
  msg->data[1] = id & 0xff;

  if (qtype == MOAT_DNS_TYPE_A)
    {
      switch (fixture->mode)
        {
        case MODE_LIE:
          append_a (msg, 12, LIE_ADDR);
          answer = TRUE;
          break;
        case MODE_NXDOMAIN_REWRITE:
          append_a (msg, 12, pinned ? PINNED_ADDR : LIE_ADDR);
          answer = TRUE;
          break;
        case MODE_CNAME:
          if (pinned)
            {
              const guint8 cname[] = { 3, 'c', 'd', 'n', 0xc0, 12 + 4 };
              guint16 cname_at = question_end + 12;

              append_record (msg, 12, MOAT_DNS_TYPE_CNAME, cname, sizeof cname);
              append_a (msg, cname_at, PINNED_ADDR);
              answer = TRUE;
            }
          break;
        case MODE_HONEST:
        case MODE_GARBAGE:
        case MODE_CUT:
        case MODE_TC:
        case MODE_SILENT:
        case MODE_WRONG_ID:
        case MODE_SPOOF_FIRST:
        case MODE_AD:
        case MODE_SERVFAIL:
        default:
          if (pinned)
            {
              append_a (msg, 12, PINNED_ADDR);
              answer = TRUE;
            }
          break;
        }
    }
  if (qtype == MOAT_DNS_TYPE_AAAA && pinned && fixture->aaaa_answer != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (fixture->aaaa_answer);

      append_record (msg, 12, MOAT_DNS_TYPE_AAAA, g_inet_address_to_bytes (address), 16);
      answer = TRUE;
    }
  if (fixture->mode == MODE_SERVFAIL)
    {
      g_byte_array_set_size (msg, question_end);
      answer = FALSE;
      flags |= 2;
    }
  else if (!answer && !pinned)
    flags |= 3; /* NXDOMAIN */
  if (fixture->mode == MODE_AD && fixture->saw_do_bit)
    flags |= 0x0020;
  if (fixture->mode == MODE_TC)
    flags |= 0x0200;

  header[0] = id >> 8;
  header[1] = id & 0xff;
  header[2] = flags >> 8;
  header[3] = flags & 0xff;
  header[4] = 0;
  header[5] = 1;
  header[6] = 0;
  header[7] = answer ? (fixture->mode == MODE_CNAME ? 2 : 1) : 0;
  memset (header + 8, 0, 4);
  memcpy (msg->data, header, sizeof header);
  return msg;
}

static gboolean
on_query_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(GByteArray) reply = NULL;
  g_autofree char *qname = NULL;
  guint8 buf[1500];
  gsize question_end;
  guint16 id, qtype;
  gboolean do_bit;
  gssize n;

  n = g_socket_receive_from (socket, &from, (char *) buf, sizeof buf, NULL, NULL);
  if (n <= 0 || !parse_query (buf, n, &id, &qname, &qtype, &question_end, &do_bit))
    return G_SOURCE_CONTINUE;
  fixture->queries++;
  fixture->saw_do_bit = do_bit;

  switch (fixture->mode)
    {
    case MODE_SILENT:
      return G_SOURCE_CONTINUE;
    case MODE_GARBAGE:
      {
        /* The right id, then bytes that are no DNS message. */
        guint8 garbage[40] = { id >> 8, id & 0xff, 0x81, 0x80, 0, 1, 0, 9 };

        memset (garbage + 8, 0xc0, sizeof garbage - 8);
        g_socket_send_to (socket, from, (const char *) garbage, sizeof garbage, NULL, NULL);
        return G_SOURCE_CONTINUE;
      }
    case MODE_WRONG_ID:
      reply = build_reply (fixture, buf, question_end, id ^ 0x5a5a, qname, qtype);
      g_socket_send_to (socket, from, (const char *) reply->data, reply->len, NULL, NULL);
      return G_SOURCE_CONTINUE;
    case MODE_SPOOF_FIRST:
      {
        /* A lie under the wrong id, then the truth under the right one. */
        g_autoptr(GByteArray) spoof = NULL;

        fixture->mode = MODE_LIE;
        spoof = build_reply (fixture, buf, question_end, id ^ 0x0101, qname, qtype);
        fixture->mode = MODE_SPOOF_FIRST;
        g_socket_send_to (socket, from, (const char *) spoof->data, spoof->len, NULL, NULL);
        break;
      }
    case MODE_HONEST:
    case MODE_LIE:
    case MODE_NXDOMAIN_REWRITE:
    case MODE_CNAME:
    case MODE_CUT:
    case MODE_TC:
    case MODE_AD:
    case MODE_SERVFAIL:
    default:
      break;
    }

  reply = build_reply (fixture, buf, question_end, id, qname, qtype);
  if (fixture->mode == MODE_CUT)
    g_byte_array_set_size (reply, reply->len - 3);
  g_socket_send_to (socket, from, (const char *) reply->data, reply->len, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static void
fixture_set_up (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  fixture->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (fixture->socket, FALSE);
  g_socket_bind (fixture->socket, any, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (fixture->socket, &error);
  g_assert_no_error (error);
  fixture->resolver = g_strdup_printf ("127.0.0.1:%u",
                                       g_inet_socket_address_get_port (
                                         G_INET_SOCKET_ADDRESS (bound)));
  fixture->source = g_socket_create_source (fixture->socket, G_IO_IN, NULL);
  g_source_set_callback (fixture->source, G_SOURCE_FUNC (on_query_cb), fixture, NULL);
  g_source_attach (fixture->source, NULL);

  fixture->options = moat_dns_probe_options_new ();
  moat_dns_probe_options_set_resolver (fixture->options, fixture->resolver, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_add_pinned (fixture->options, PINNED_NAME "=" PINNED_ADDR, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_timeout (fixture->options, 600);
  moat_dns_probe_options_set_retries (fixture->options, 1);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer user_data)
{
  g_source_destroy (fixture->source);
  g_clear_pointer (&fixture->source, g_source_unref);
  g_clear_object (&fixture->socket);
  g_clear_pointer (&fixture->options, moat_dns_probe_options_free);
  g_clear_pointer (&fixture->findings, g_ptr_array_unref);
  g_clear_error (&fixture->error);
  g_free (fixture->resolver);
}

static void
run_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->findings = moat_dns_probe_run_finish (result, &fixture->error);
  fixture->done = TRUE;
}

static void
run_probe (Fixture *fixture, GCancellable *cancellable)
{
  fixture->done = FALSE;
  g_clear_pointer (&fixture->findings, g_ptr_array_unref);
  g_clear_error (&fixture->error);
  moat_dns_probe_run_async (fixture->options, cancellable, run_cb, fixture);
  while (!fixture->done)
    g_main_context_iteration (NULL, TRUE);
}

static MoatFinding *
finding_for (Fixture *fixture, const char *check)
{
  for (guint i = 0; i < fixture->findings->len; i++)
    {
      MoatFinding *finding = g_ptr_array_index (fixture->findings, i);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *object;

      g_assert_nonnull (finding->evidence);
      json_parser_load_from_data (parser, finding->evidence, -1, &error);
      g_assert_no_error (error);
      object = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (object, "resolver"), ==, fixture->resolver);
      if (g_strcmp0 (json_object_get_string_member (object, "check"), check) == 0)
        return finding;
    }
  g_assert_not_reached ();
  return NULL;
}

static JsonObject *
evidence_of (MoatFinding *finding, JsonParser *parser)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, finding->evidence, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
assert_result (MoatFinding *finding, MoatFindingResult result)
{
  g_assert_cmpstr (finding->detector, ==, "dns");
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==,
                   moat_finding_result_to_string (result));
  if (result == MOAT_FINDING_THREAT)
    g_assert_cmpstr (finding->threat, ==, "network.dns_hijack");
  else
    g_assert_null (finding->threat);
}

/* Tests */

static void
test_clean (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *subject = g_strdup_printf ("www.moat.test@%s", fixture->resolver);
  g_autofree char *zone_subject = g_strdup_printf ("*.moat.test@%s", fixture->resolver);
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_HONEST;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 2);

  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_CLEAN);
  g_assert_cmpstr (finding->subject, ==, subject);
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (evidence, "got"),
                                                  0), ==, PINNED_ADDR);

  /* The NXDOMAIN zone defaults to the pinned name's registrable domain. */
  finding = finding_for (fixture, "nxdomain");
  assert_result (finding, MOAT_FINDING_CLEAN);
  g_assert_cmpstr (finding->subject, ==, zone_subject);
  evidence = evidence_of (finding, parser);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (evidence, "answers")),
                    ==, 3);
  g_assert_cmpuint (fixture->queries, ==, 4);
}

static void
test_lying (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_LIE;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 2);

  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_THREAT);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_nonnull (strstr (finding->summary, LIE_ADDR));
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "name"), ==, PINNED_NAME);
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (evidence, "expected"), 0), ==, PINNED_ADDR);
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (evidence, "got"), 0), ==, LIE_ADDR);
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (evidence, "unexpected"), 0), ==, LIE_ADDR);

  finding = finding_for (fixture, "nxdomain");
  assert_result (finding, MOAT_FINDING_THREAT);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_MEDIUM);
}

static void
test_nxdomain_rewrite (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  MoatFinding *finding;
  JsonObject *evidence;
  JsonObject *answer;

  moat_dns_probe_options_set_nxdomain_zone (fixture->options, "corp.moat.test", &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_nxdomain_count (fixture->options, 2);
  fixture->mode = MODE_NXDOMAIN_REWRITE;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);

  assert_result (finding_for (fixture, "pinned"), MOAT_FINDING_CLEAN);
  finding = finding_for (fixture, "nxdomain");
  assert_result (finding, MOAT_FINDING_THREAT);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_MEDIUM);
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "zone"), ==, "corp.moat.test");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (evidence, "answers")),
                    ==, 2);
  answer = json_array_get_object_element (json_object_get_array_member (evidence, "answers"), 0);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (answer, "name"), "moat-nx-"));
  g_assert_true (g_str_has_suffix (json_object_get_string_member (answer, "name"),
                                   ".corp.moat.test"));
  g_assert_cmpstr (json_object_get_string_member (answer, "rcode"), ==, "NOERROR");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (answer, "got"),
                                                  0), ==, LIE_ADDR);
}

static void
test_cname (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_CNAME;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_CLEAN);
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (evidence, "cnames"), 0), ==, "cdn.moat.test");
}

static void
assert_all_inconclusive (Fixture *fixture, guint expected)
{
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, expected);
  for (guint i = 0; i < fixture->findings->len; i++)
    assert_result (g_ptr_array_index (fixture->findings, i), MOAT_FINDING_INCONCLUSIVE);
}

static void
test_ipv6 (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  MoatFinding *finding;
  JsonObject *evidence;
  JsonArray *got;

  g_clear_pointer (&fixture->options, moat_dns_probe_options_free);
  fixture->options = moat_dns_probe_options_new ();
  moat_dns_probe_options_set_resolver (fixture->options, fixture->resolver, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_add_pinned (fixture->options,
                                     PINNED_NAME "=" PINNED_ADDR ",2001:DB8:0::9", &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_nxdomain_count (fixture->options, 0);
  moat_dns_probe_options_set_timeout (fixture->options, 600);

  /* Both families known. */
  fixture->mode = MODE_HONEST;
  fixture->aaaa_answer = "2001:db8::9";
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 1);
  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_CLEAN);
  evidence = evidence_of (finding, parser);
  got = json_object_get_array_member (evidence, "got");
  g_assert_cmpuint (json_array_get_length (got), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (got, 1), ==, "2001:db8::9");
  g_assert_cmpuint (fixture->queries, ==, 2);

  /* AAAA filtered (no data): the A answer still counts. */
  fixture->aaaa_answer = NULL;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_CLEAN);
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==,
                   "answer NOERROR with 0 addresses");

  /* A lie in one family is a lie. */
  fixture->aaaa_answer = "2001:db8::66";
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "pinned");
  assert_result (finding, MOAT_FINDING_THREAT);
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (evidence, "unexpected"), 0), ==,
                   "2001:db8::66");
}

static void
test_garbage (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_GARBAGE;
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
  evidence = evidence_of (finding_for (fixture, "pinned"), parser);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (evidence, "problem"),
                                   "malformed DNS reply"));
}

static void
test_cut (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_CUT;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  evidence = evidence_of (finding_for (fixture, "pinned"), parser);
  assert_result (finding_for (fixture, "pinned"), MOAT_FINDING_INCONCLUSIVE);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==,
                   "malformed DNS reply: record data runs past the end");
}

static void
test_tc (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_TC;
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
  evidence = evidence_of (finding_for (fixture, "pinned"), parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==, "truncated reply");
}

static void
test_silent (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_SILENT;
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
  evidence = evidence_of (finding_for (fixture, "pinned"), parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==,
                   "no answer within 600 ms");
  /* One query and its retry; the NXDOMAIN check does not wait again. */
  g_assert_cmpuint (fixture->queries, ==, 2);
}

static void
test_wrong_id (Fixture *fixture, gconstpointer user_data)
{
  fixture->mode = MODE_WRONG_ID;
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
}

static void
test_spoof_first (Fixture *fixture, gconstpointer user_data)
{
  fixture->mode = MODE_SPOOF_FIRST;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  assert_result (finding_for (fixture, "pinned"), MOAT_FINDING_CLEAN);
  assert_result (finding_for (fixture, "nxdomain"), MOAT_FINDING_CLEAN);
}

static void
test_servfail (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_SERVFAIL;
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
  evidence = evidence_of (finding_for (fixture, "pinned"), parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==,
                   "answer SERVFAIL with 0 addresses");
}

static void
test_closed_port (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *resolver = NULL;

  /* Nothing listens there once the responder's socket is closed. */
  resolver = g_strdup (fixture->resolver);
  g_source_destroy (fixture->source);
  g_socket_close (fixture->socket, &error);
  g_assert_no_error (error);
  run_probe (fixture, NULL);
  assert_all_inconclusive (fixture, 2);
}

static void
test_dnssec (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  MoatFinding *finding;
  JsonObject *evidence;

  moat_dns_probe_options_set_dnssec_name (fixture->options, PINNED_NAME, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_nxdomain_count (fixture->options, 0);

  fixture->mode = MODE_AD;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 2);
  g_assert_true (fixture->saw_do_bit);
  assert_result (finding_for (fixture, "dnssec"), MOAT_FINDING_CLEAN);

  /* A resolver that does not validate: nothing to conclude... */
  fixture->mode = MODE_HONEST;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "dnssec");
  assert_result (finding, MOAT_FINDING_INCONCLUSIVE);
  evidence = evidence_of (finding, parser);
  g_assert_false (json_object_get_boolean_member (evidence, "authentic"));

  /* ...unless it is known to validate. */
  moat_dns_probe_options_set_dnssec_required (fixture->options, TRUE);
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "dnssec");
  assert_result (finding, MOAT_FINDING_THREAT);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_MEDIUM);
}

static void
test_resolv_conf (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("moat-dns-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "resolv.conf", NULL);
  g_autofree char *contents = NULL;
  MoatFinding *finding;

  g_assert_no_error (error);
  contents = g_strdup_printf ("# generated\nsearch moat.test\nnameserver   %s\n"
                              "nameserver not-an-address\n", fixture->resolver);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_resolver (fixture->options, NULL, &error);
  g_assert_no_error (error);
  moat_dns_probe_options_set_resolv_conf (fixture->options, path);

  fixture->mode = MODE_LIE;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 2);
  assert_result (finding_for (fixture, "pinned"), MOAT_FINDING_THREAT);

  /* No nameserver at all: one inconclusive finding about resolv.conf. */
  g_file_set_contents (path, "search moat.test\n", -1, &error);
  g_assert_no_error (error);
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 1);
  finding = g_ptr_array_index (fixture->findings, 0);
  assert_result (finding, MOAT_FINDING_INCONCLUSIVE);
  g_assert_cmpstr (finding->subject, ==, path);
  g_assert_cmpuint (fixture->queries, ==, 4);

  g_unlink (path);
  g_rmdir (dir);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  /* Before the start. */
  g_cancellable_cancel (cancellable);
  run_probe (fixture, cancellable);
  g_assert_error (fixture->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fixture->findings);

  /* While waiting for a silent resolver. */
  g_cancellable_reset (cancellable);
  fixture->mode = MODE_SILENT;
  moat_dns_probe_options_set_timeout (fixture->options, 30000);
  g_timeout_add (50, cancel_cb, cancellable);
  run_probe (fixture, cancellable);
  g_assert_error (fixture->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fixture->findings);
}

static void
test_options (void)
{
  g_autoptr(MoatDnsProbeOptions) options = moat_dns_probe_options_new ();
  g_autoptr(MoatDnsProbeOptions) copy = NULL;
  const char *bad_resolvers[] = { "", "10.0.0", "10.0.0.1:0", "10.0.0.1:99999", "[::1",
                                  "[::1]x", "host.example", "10.0.0.1:53:53" };
  const char *bad_pins[] = { "", "www.example.com", "=10.0.0.1", "www.example.com=",
                             "www.example.com=10.0.0.300", "10.0.0.1=10.0.0.1",
                             "bad_name!.com=10.0.0.1", "www.example.com=10.0.0.1,,x" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_resolvers); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (moat_dns_probe_options_set_resolver (options, bad_resolvers[i], &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_pins); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (moat_dns_probe_options_add_pinned (options, bad_pins[i], &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (moat_dns_probe_options_set_resolver (options, "[::1]:5353", &error));
    g_assert_true (moat_dns_probe_options_set_resolver (options, "fe80::1", &error));
    g_assert_true (moat_dns_probe_options_set_resolver (options, "fe80::1%lo", &error));
    g_assert_true (moat_dns_probe_options_add_pinned (options,
                                                      " WWW.Example.COM = 192.0.2.1, 2001:db8::1",
                                                      &error));
    g_assert_no_error (error);
    g_assert_false (moat_dns_probe_options_set_nxdomain_zone (options, "no spaces.com", &error));
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  }
  copy = moat_dns_probe_options_copy (options);
  g_assert_nonnull (copy);
}

static void
nothing_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;
  g_autoptr(GPtrArray) findings = moat_dns_probe_run_finish (result, error);

  g_assert_null (findings);
}

static void
test_nothing_to_ask (void)
{
  g_autoptr(MoatDnsProbeOptions) options = moat_dns_probe_options_new ();
  g_autoptr(GError) error = NULL;

  moat_dns_probe_run_async (options, NULL, nothing_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

static void
test_wire (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) query = NULL;
  g_autoptr(MoatDnsReply) reply = NULL;
  const guint8 *data;
  gsize len;
  /* A reply whose CNAME points at itself through compression. */
  const guint8 loop[] = {
    0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    1, 'a', 0, 0, 1, 0, 1,
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
  };
  const guint8 pointer_forward[] = {
    0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
    0xc0, 14, 0, 0, 1, 0, 1,
  };

  query = moat_dns_query_build (0xbeef, "www.example.com.", MOAT_DNS_TYPE_AAAA, TRUE, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (query, &len);
  g_assert_cmpuint (len, ==, 12 + 17 + 4 + 11);
  g_assert_cmpint (data[0], ==, 0xbe);
  g_assert_cmpint (data[1], ==, 0xef);
  g_assert_cmpint (data[3], ==, 0x20);  /* AD */
  g_assert_cmpint (data[11], ==, 1);    /* OPT */
  g_assert_cmpint (data[12], ==, 3);
  g_assert_cmpint (data[12 + 17 + 1], ==, MOAT_DNS_TYPE_AAAA);
  g_assert_cmpint (data[len - 4], ==, 0x80); /* DO */

  g_assert_null (moat_dns_query_build (1, "a..b", MOAT_DNS_TYPE_A, FALSE, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A CNAME loop is a chain without addresses, not an endless walk. */
  reply = moat_dns_reply_parse (loop, sizeof loop, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (reply);
  g_clear_error (&error);

  reply = moat_dns_reply_parse (pointer_forward, sizeof pointer_forward, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (reply);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/dns-probe/options", test_options);
  g_test_add_func ("/moat/dns-probe/nothing-to-ask", test_nothing_to_ask);
  g_test_add_func ("/moat/dns-probe/wire", test_wire);
#define ADD(path, func) \
  g_test_add ("/moat/dns-probe/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("clean", test_clean);
  ADD ("lying", test_lying);
  ADD ("nxdomain-rewrite", test_nxdomain_rewrite);
  ADD ("cname", test_cname);
  ADD ("ipv6", test_ipv6);
  ADD ("garbage", test_garbage);
  ADD ("cut", test_cut);
  ADD ("truncated-flag", test_tc);
  ADD ("silent", test_silent);
  ADD ("wrong-id", test_wrong_id);
  ADD ("spoof-first", test_spoof_first);
  ADD ("servfail", test_servfail);
  ADD ("closed-port", test_closed_port);
  ADD ("dnssec", test_dnssec);
  ADD ("resolv-conf", test_resolv_conf);
  ADD ("cancel", test_cancel);
#undef ADD
  return g_test_run ();
}
