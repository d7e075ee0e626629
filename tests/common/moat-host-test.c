/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Host normalisation: a table of inputs in the style of the WHATWG URL test
 * suite (host part only), the issue's attack cases, and a cross-check of the
 * IPv4 parser against inet_aton().
 */
#include "config.h"

#include "moat-error.h"
#include "moat-host.h"

#include <arpa/inet.h>
#include <string.h>

typedef struct {
  const char *input;
  const char *expected;   /* NULL: refused with MOAT_ERROR_INVALID_ARGUMENT */
  MoatHostKind kind;
} HostCase;

#define NAME MOAT_HOST_KIND_NAME
#define IPV4 MOAT_HOST_KIND_IPV4
#define IPV6 MOAT_HOST_KIND_IPV6
#define BAD(s) { s, NULL, NAME }

static const HostCase host_cases[] = {
  /* Plain names, case, trailing dot. */
  { "example.com", "example.com", NAME },
  { "EXAMPLE.com.", "example.com", NAME },
  { "ExAmPlE.CoM", "example.com", NAME },
  { "localhost", "localhost", NAME },
  { "a", "a", NAME },
  { "a.b.c.d.e.f.example", "a.b.c.d.e.f.example", NAME },
  { "my_host.example", "my_host.example", NAME },
  { "_dmarc.example.com", "_dmarc.example.com", NAME },
  { "r3---sn-4g5e6nz7.googlevideo.com", "r3---sn-4g5e6nz7.googlevideo.com", NAME },
  { "-leading.example", "-leading.example", NAME },
  { "foo.0xg", "foo.0xg", NAME },
  { "foo.1a", "foo.1a", NAME },
  { "123abc.example", "123abc.example", NAME },
  BAD ("example..com"),
  BAD ("example.com.."),
  BAD (".example.com"),
  BAD ("."),
  BAD (".."),
  BAD (""),
  /* Userinfo: everything up to the last '@' goes. */
  { "allowed@blocked", "blocked", NAME },
  { "allowed@blocked.example", "blocked.example", NAME },
  { "user:pass@Blocked.Example", "blocked.example", NAME },
  { "a@b@c.example", "c.example", NAME },
  { "allowed.example@", NULL, NAME },
  { "@[::1]", "::1", IPV6 },
  /* Percent-encoding. */
  { "%62locked.example", "blocked.example", NAME },
  { "%42LOCKED.example", "blocked.example", NAME },
  { "b%6C%6fcked.example", "blocked.example", NAME },
  { "%c3%bc.example", "xn--tda.example", NAME },
  { "b%C3%BCcher.example", "xn--bcher-kva.example", NAME },
  { "ex%2eample.com", "ex.ample.com", NAME },
  BAD ("ex%00ample.com"),
  BAD ("ex%2fample.com"),
  BAD ("ex%5cample.com"),
  BAD ("ex%40ample.com"),
  BAD ("ex%3aample.com"),
  BAD ("ex%3fample.com"),
  BAD ("ex%23ample.com"),
  BAD ("ex%20ample.com"),
  BAD ("ex%0aample.com"),
  BAD ("ex%5bample.com"),
  BAD ("ex%2562locked.com"),
  BAD ("ex%zzample.com"),
  BAD ("example.com%"),
  BAD ("example.com%4"),
  BAD ("%ff.example"),
  BAD ("%c3.example"),
  /* Characters never allowed in a host. */
  BAD ("exa mple.com"),
  BAD ("example.com/path"),
  BAD ("example.com\\path"),
  BAD ("example.com?q"),
  BAD ("example.com#frag"),
  BAD ("exa\tmple.com"),
  BAD ("exa\x7fmple.com"),
  BAD ("example.com:80"),
  BAD ("[example.com]"),
  BAD ("exam]ple.com"),
  BAD ("exa*mple.com"),
  BAD ("exa<mple.com"),
  /* IDN: UTS #46, non-transitional, transitional fallback. */
  { "bücher.example", "xn--bcher-kva.example", NAME },
  { "BÜCHER.Example", "xn--bcher-kva.example", NAME },
  { "xn--bcher-kva.example", "xn--bcher-kva.example", NAME },
  { "XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", NAME },
  { "faß.de", "xn--fa-hia.de", NAME },
  { "münchen.de", "xn--mnchen-3ya.de", NAME },
  { "пример.рф", "xn--e1afmkfd.xn--p1ai", NAME },
  { "例え.テスト", "xn--r8jz45g.xn--zckzah", NAME },
  { "example。com", "example.com", NAME },
  { "example．com", "example.com", NAME },
  { "ⓔxample.com", "example.com", NAME },
  { "💩.la", "xn--ls8h.la", NAME },
  { "xn--ls8h.la", "xn--ls8h.la", NAME },
  BAD ("xn--zz.example"),
  BAD ("xn--a.example"),
  BAD ("ü-.example"),
  BAD ("％41.example"),
  { "ü⁄x.example", "xn--x-dha831v.example", NAME },   /* NV8: browsers take it too */
  BAD ("\xe2\x80\x8d.example"),
  /* IPv4 in every inet_aton() form. */
  { "127.0.0.1", "127.0.0.1", IPV4 },
  { "127.0.0.1.", "127.0.0.1", IPV4 },
  { "2130706433", "127.0.0.1", IPV4 },
  { "0177.0.0.1", "127.0.0.1", IPV4 },
  { "0177.0.0.01", "127.0.0.1", IPV4 },
  { "0x7f.1", "127.0.0.1", IPV4 },
  { "0X7F.0X0.0x0.0x1", "127.0.0.1", IPV4 },
  { "127.1", "127.0.0.1", IPV4 },
  { "127.0.1", "127.0.0.1", IPV4 },
  { "0x7f000001", "127.0.0.1", IPV4 },
  { "017700000001", "127.0.0.1", IPV4 },
  { "0x7f.0.0.1", "127.0.0.1", IPV4 },
  { "1.0x10000", "1.1.0.0", IPV4 },
  { "0", "0.0.0.0", IPV4 },
  { "0x", "0.0.0.0", IPV4 },
  { "4294967295", "255.255.255.255", IPV4 },
  { "192.168.257", "192.168.1.1", IPV4 },
  BAD ("192.168.0.257"),
  { "%31%32%37.0.0.1", "127.0.0.1", IPV4 },
  { "１２７．０．０．１", "127.0.0.1", IPV4 },
  { "user@0x7f.1", "127.0.0.1", IPV4 },
  BAD ("256.1.1.1"),
  BAD ("1.2.3.4.5"),
  BAD ("4294967296"),
  BAD ("0x100000000"),
  BAD ("1.2.3.256"),
  BAD ("1.2.65536"),
  BAD ("08.0.0.1"),
  BAD ("0x7g.0.0.1"),
  BAD ("example.123"),
  BAD ("example.0x7f"),
  BAD ("1..2.3"),
  BAD ("1.2.3.4.."),
  /* IPv6 literals. */
  { "[::1]", "::1", IPV6 },
  { "[::]", "::", IPV6 },
  { "[::ffff:127.0.0.1]", "::ffff:127.0.0.1", IPV6 },
  { "[::ffff:7f00:1]", "::ffff:127.0.0.1", IPV6 },
  { "[0:0:0:0:0:0:0:1]", "::1", IPV6 },
  { "[2001:DB8::1]", "2001:db8::1", IPV6 },
  { "[2001:0db8:0000:0000:0000:0000:0000:0001]", "2001:db8::1", IPV6 },
  { "[2001:db8:0:0:1:0:0:1]", "2001:db8::1:0:0:1", IPV6 },
  { "[2001:db8:0:1:1:1:1:1]", "2001:db8:0:1:1:1:1:1", IPV6 },
  { "[FE80::1]", "fe80::1", IPV6 },
  { "::1", "::1", IPV6 },
  BAD ("[fe80::1%25eth0]"),
  BAD ("[fe80::1%eth0]"),
  BAD ("[::1"),
  BAD ("[]"),
  BAD ("[1.2.3.4]"),
  BAD ("[::1::2]"),
  BAD ("[12345::1]"),
  BAD ("[::ffff:127.0.0.01]"),
  BAD ("[::1]:80"),
  BAD ("[::1]x"),
  BAD ("fe80::1%25eth0"),
};

static void
test_host_table (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (host_cases); i++)
    {
      const HostCase *c = &host_cases[i];
      g_autoptr(GError) error = NULL;
      MoatHostKind kind = 99;
      g_autofree char *result = moat_host_normalize (c->input, -1, &kind, &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": \"%s\"", i, c->input);
      if (c->expected == NULL)
        {
          g_assert_null (result);
          g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
          g_assert_cmpstr (error->message, !=, "");
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpstr (result, ==, c->expected);
      g_assert_cmpint (kind, ==, c->kind);
    }
  g_assert_cmpuint (G_N_ELEMENTS (host_cases), >=, 80);
}

/* normalize(normalize(x)) == normalize(x), same kind. */
static void
test_host_idempotent (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (host_cases); i++)
    {
      const HostCase *c = &host_cases[i];
      g_autoptr(GError) error = NULL;
      MoatHostKind kind = 99;
      g_autofree char *again = NULL;

      if (c->expected == NULL)
        continue;
      again = moat_host_normalize (c->expected, -1, &kind, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (again, ==, c->expected);
      g_assert_cmpint (kind, ==, c->kind);
    }
}

static void
test_host_length (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label63 = g_strnfill (63, 'a');
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *label61 = g_strnfill (61, 'b');
  g_autofree char *ok = g_strdup_printf ("%s.%s.%s.%s", label63, label63, label63, label61);
  g_autofree char *ok_dot = g_strconcat (ok, ".", NULL);
  g_autofree char *too_long = g_strconcat ("x", ok, NULL);
  g_autofree char *long_label = g_strconcat (label64, ".example", NULL);
  g_autofree char *huge = g_strnfill (MOAT_HOST_MAX_INPUT_LENGTH + 1, 'a');
  g_autofree char *long_ipv4 = g_strconcat (label64, "1.1", NULL);   /* zeros below */
  g_autofree char *result = NULL;

  g_assert_cmpuint (strlen (ok), ==, 253);
  result = moat_host_normalize (ok, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, ok);
  g_clear_pointer (&result, g_free);

  result = moat_host_normalize (ok_dot, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, ok);
  g_clear_pointer (&result, g_free);

  result = moat_host_normalize (too_long, -1, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  result = moat_host_normalize (long_label, -1, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  result = moat_host_normalize (huge, -1, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  /* A long run of leading zeros is still one octal number, as inet_aton says. */
  memset (long_ipv4, '0', 64);
  result = moat_host_normalize (long_ipv4, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "1.0.0.1");
  g_clear_pointer (&result, g_free);
}

static void
test_host_explicit_length (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *result = NULL;
  MoatHostKind kind = 99;

  result = moat_host_normalize ("Example.com/ignored", 11, &kind, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "example.com");
  g_assert_cmpint (kind, ==, MOAT_HOST_KIND_NAME);
  g_clear_pointer (&result, g_free);

  result = moat_host_normalize ("exa\0mple.com", 12, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  result = moat_host_normalize ("example.com", 0, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  result = moat_host_normalize (NULL, -1, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (result);
  g_clear_error (&error);

  /* Refusal without a GError must not crash. */
  g_assert_null (moat_host_normalize ("ex%00ample.com", -1, NULL, NULL));
}

typedef struct {
  const char *authority;
  const char *host;     /* NULL: refused */
  guint16 port;
} AuthorityCase;

static const AuthorityCase authority_cases[] = {
  { "example.com", "example.com", 0 },
  { "example.com:443", "example.com", 443 },
  { "Example.com:080", "Example.com", 80 },
  { "example.com:65535", "example.com", 65535 },
  { "allowed@blocked.example:443", "blocked.example", 443 },
  { "user:pass@blocked.example", "blocked.example", 0 },
  { "a@b:1@c.example:8080", "c.example", 8080 },
  { "[::1]", "[::1]", 0 },
  { "[::1]:443", "[::1]", 443 },
  { "[fe80::1%25eth0]:80", "[fe80::1%25eth0]", 80 },
  { "0x7f.1:22", "0x7f.1", 22 },
  { "example.com:65536", NULL, 0 },
  { "example.com:99999999999999999999", NULL, 0 },
  { "example.com:", NULL, 0 },
  { "example.com:0", NULL, 0 },
  { "example.com:-1", NULL, 0 },
  { "example.com:+443", NULL, 0 },
  { "example.com:44 3", NULL, 0 },
  { "example.com:443/", NULL, 0 },
  { "example.com:http", NULL, 0 },
  { "example.com:443:443", NULL, 0 },
  { "::1", NULL, 0 },
  { "::1:443", NULL, 0 },
  { "[::1", NULL, 0 },
  { "[::1]443", NULL, 0 },
  { "[::1]:", NULL, 0 },
  { "[::1]:65536", NULL, 0 },
  { ":443", NULL, 0 },
  { "user@:443", NULL, 0 },
  { "", NULL, 0 },
};

static void
test_split_authority (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (authority_cases); i++)
    {
      const AuthorityCase *c = &authority_cases[i];
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      guint16 port = 12345;
      gboolean ok;

      g_test_message ("authority %" G_GSIZE_FORMAT ": \"%s\"", i, c->authority);
      ok = moat_host_split_authority (c->authority, &host, &port, &error);
      if (c->host == NULL)
        {
          g_assert_false (ok);
          g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
          g_assert_null (host);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (host, ==, c->host);
      g_assert_cmpuint (port, ==, c->port);
    }
  g_assert_false (moat_host_split_authority (NULL, NULL, NULL, NULL));
}

/* The attack cases of issue 4, end to end through split + normalize. */
static void
test_attack_cases (void)
{
  static const struct {
    const char *authority;
    const char *host;
    gboolean local;
  } cases[] = {
    { "allowed@blocked.example", "blocked.example", FALSE },
    { "allowed.example@blocked.example:80", "blocked.example", FALSE },
    { "%62locked.example", "blocked.example", FALSE },
    { "0x7f.1:443", "127.0.0.1", TRUE },
    { "2130706433:443", "127.0.0.1", TRUE },
    { "0177.0.0.01:443", "127.0.0.1", TRUE },
    { "127.1:443", "127.0.0.1", TRUE },
    { "[::ffff:7f00:1]:443", "::ffff:127.0.0.1", TRUE },
    { "[::ffff:127.0.0.1]:443", "::ffff:127.0.0.1", TRUE },
    { "[::1]:443", "::1", TRUE },
    { "0:443", "0.0.0.0", TRUE },
    { "169.254.169.254:80", "169.254.169.254", TRUE },
    { "0xa9fea9fe:80", "169.254.169.254", TRUE },
    { "１２７．０．０．１:80", "127.0.0.1", TRUE },
    { "[fe80::1]:80", "fe80::1", TRUE },
    { "example.com:443", "example.com", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *raw = NULL;
      g_autofree char *host = NULL;
      guint16 port;

      g_test_message ("attack %" G_GSIZE_FORMAT ": \"%s\"", i, cases[i].authority);
      g_assert_true (moat_host_split_authority (cases[i].authority, &raw, &port, &error));
      g_assert_no_error (error);
      host = moat_host_normalize (raw, -1, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, cases[i].host);
      g_assert_cmpint (moat_host_is_local_address (host), ==, cases[i].local);
    }
}

static void
test_is_local (void)
{
  static const struct {
    const char *ip;
    gboolean local;
  } cases[] = {
    { "127.0.0.1", TRUE },
    { "127.255.255.254", TRUE },
    { "0.0.0.0", TRUE },
    { "0.1.2.3", TRUE },
    { "169.254.0.1", TRUE },
    { "169.254.255.255", TRUE },
    { "::1", TRUE },
    { "::", TRUE },
    { "fe80::1", TRUE },
    { "febf:ffff::1", TRUE },
    { "::ffff:127.0.0.1", TRUE },
    { "::ffff:169.254.1.1", TRUE },
    { "::ffff:0.0.0.0", TRUE },
    { "::127.0.0.1", TRUE },
    { "128.0.0.1", FALSE },
    { "126.255.255.255", FALSE },
    { "1.0.0.0", FALSE },
    { "169.253.255.255", FALSE },
    { "169.255.0.0", FALSE },
    { "10.0.0.1", FALSE },
    { "192.168.1.1", FALSE },
    { "::2", TRUE },                 /* ::0.0.0.2 is in 0.0.0.0/8 */
    { "fec0::1", FALSE },
    { "fe7f::1", FALSE },
    { "2001:db8::1", FALSE },
    { "::ffff:8.8.8.8", FALSE },
    { "64:ff9b::7f00:1", FALSE },
    { "localhost", FALSE },
    { "example.com", FALSE },
    { "0x7f.1", FALSE },             /* not canonical: normalise first */
    { "", FALSE },
    { NULL, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("is_local %" G_GSIZE_FORMAT ": %s", i, cases[i].ip);
      g_assert_cmpint (moat_host_is_local_address (cases[i].ip), ==, cases[i].local);
    }
}

static void
test_unmap_ipv4 (void)
{
  g_autofree char *a = moat_host_unmap_ipv4 ("::ffff:127.0.0.1");
  g_autofree char *b = moat_host_unmap_ipv4 ("::ffff:10.1.2.3");

  g_assert_cmpstr (a, ==, "127.0.0.1");
  g_assert_cmpstr (b, ==, "10.1.2.3");
  g_assert_null (moat_host_unmap_ipv4 ("::1"));
  g_assert_null (moat_host_unmap_ipv4 ("::127.0.0.1"));
  g_assert_null (moat_host_unmap_ipv4 ("127.0.0.1"));
  g_assert_null (moat_host_unmap_ipv4 ("example.com"));
  g_assert_null (moat_host_unmap_ipv4 (NULL));
}

static void
test_registrable_domain (void)
{
  static const struct {
    const char *host;
    const char *domain;
  } cases[] = {
    { "www.example.co.uk", "example.co.uk" },
    { "example.co.uk", "example.co.uk" },
    { "a.b.c.example.com", "example.com" },
    { "example.com", "example.com" },
    { "xn--bcher-kva.example", "xn--bcher-kva.example" },
    { "a.b.xn--p1ai", "b.xn--p1ai" },
    { "foo.github.io", "foo.github.io" },
    { "x.foo.github.io", "foo.github.io" },
    { "a.b.lan", "b.lan" },
    { "co.uk", NULL },
    { "com", NULL },
    { "github.io", NULL },
    { "localhost", NULL },
    { "127.0.0.1", NULL },
    { "::1", NULL },
    { "2001:db8::1", NULL },
    { "", NULL },
    { NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *domain = moat_host_registrable_domain (cases[i].host);

      g_test_message ("registrable %" G_GSIZE_FORMAT ": %s", i, cases[i].host);
      g_assert_cmpstr (domain, ==, cases[i].domain);
    }
}

/* Random IPv4-ish strings: wherever both inet_aton() and we accept one, we
 * agree; and every string inet_aton() accepts, we accept too (our parser
 * accepts a superset: "0x" alone and a trailing dot). */
static void
test_ipv4_vs_inet_aton (void)
{
  static const char alphabet[] = "0123456789.xXabcdefABCDEF0000111..";
  g_autoptr(GRand) rand = g_rand_new_with_seed (0x686f7374);
  guint both = 0;

  for (guint iter = 0; iter < 200000; iter++)
    {
      char buf[24];
      gsize len = (gsize) g_rand_int_range (rand, 1, 20);
      struct in_addr addr;
      g_autofree char *ours = NULL;
      MoatHostKind kind = 99;
      gboolean theirs;

      for (gsize j = 0; j < len; j++)
        buf[j] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
      /* inet_aton needs a digit first; make most inputs numeric-looking. */
      if (g_rand_int_range (rand, 0, 4) != 0)
        buf[0] = (char) ('0' + g_rand_int_range (rand, 0, 10));
      buf[len] = '\0';

      theirs = inet_aton (buf, &addr) != 0;
      ours = moat_host_normalize (buf, -1, &kind, NULL);
      if (theirs)
        {
          char expected[INET_ADDRSTRLEN];

          g_assert_nonnull (inet_ntop (AF_INET, &addr, expected, sizeof expected));
          if (ours == NULL)
            g_test_message ("inet_aton accepts \"%s\", we refuse it", buf);
          g_assert_nonnull (ours);
          g_assert_cmpint (kind, ==, MOAT_HOST_KIND_IPV4);
          g_assert_cmpstr (ours, ==, expected);
          both++;
        }
    }
  /* The generator must actually produce accepted addresses. */
  g_assert_cmpuint (both, >, 1000);
}

/* Known inputs where inet_aton and we agree, written out. */
static void
test_ipv4_inet_aton_fixed (void)
{
  static const char *inputs[] = {
    "2130706433", "0177.0.0.01", "0x7f.1", "127.1", "0x7F.0.1", "10.0x10.010",
    "0", "000000000000000000000000000000001", "255.255.255.255", "0xffffffff",
    "1.2.3", "037777777777",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      struct in_addr addr;
      char expected[INET_ADDRSTRLEN];
      g_autofree char *ours = moat_host_normalize (inputs[i], -1, NULL, NULL);

      g_assert_cmpint (inet_aton (inputs[i], &addr), !=, 0);
      g_assert_nonnull (inet_ntop (AF_INET, &addr, expected, sizeof expected));
      g_assert_cmpstr (ours, ==, expected);
    }
}

static gpointer
normalize_in_thread (gpointer data)
{
  for (guint i = 0; i < 2000; i++)
    {
      const HostCase *c = &host_cases[i % G_N_ELEMENTS (host_cases)];
      g_autofree char *result = moat_host_normalize (c->input, -1, NULL, NULL);
      g_autofree char *domain = moat_host_registrable_domain ("www.example.co.uk");

      if (g_strcmp0 (result, c->expected) != 0 || g_strcmp0 (domain, "example.co.uk") != 0)
        return GINT_TO_POINTER (1);
    }
  return GINT_TO_POINTER (0);
}

static void
test_threads (void)
{
  GThread *threads[4];
  guint failures = 0;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("host", normalize_in_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    failures += GPOINTER_TO_UINT (g_thread_join (threads[i]));
  g_assert_cmpuint (failures, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/host/table", test_host_table);
  g_test_add_func ("/moat/host/idempotent", test_host_idempotent);
  g_test_add_func ("/moat/host/length", test_host_length);
  g_test_add_func ("/moat/host/explicit-length", test_host_explicit_length);
  g_test_add_func ("/moat/host/split-authority", test_split_authority);
  g_test_add_func ("/moat/host/attack-cases", test_attack_cases);
  g_test_add_func ("/moat/host/is-local", test_is_local);
  g_test_add_func ("/moat/host/unmap-ipv4", test_unmap_ipv4);
  g_test_add_func ("/moat/host/registrable-domain", test_registrable_domain);
  g_test_add_func ("/moat/host/ipv4-vs-inet-aton", test_ipv4_vs_inet_aton);
  g_test_add_func ("/moat/host/ipv4-inet-aton-fixed", test_ipv4_inet_aton_fixed);
  g_test_add_func ("/moat/host/threads", test_threads);

  return g_test_run ();
}
