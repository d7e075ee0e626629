/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * DNS replies come from whatever resolver the network hands out, so the DNS
 * probe's parser sees hostile bytes. Each input is parsed as a whole message,
 * then again behind a well-formed header and question, so random bytes reach
 * the record parser too. Invariants checked: refusal always comes with a
 * GError; an accepted reply has a question name of at most 4 × 255 bytes of
 * printable ASCII, addresses that parse back as addresses of the question's
 * type, and a CNAME chain of at most 8 names.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-dns-probe-private.h"
#include "moat-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_reply (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatDnsReply) reply = moat_dns_reply_parse (data, size, &error);

  if (reply == NULL)
    {
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (reply->qname);
  g_assert_cmpuint (strlen (reply->qname), <=, 4 * 255);
  for (const char *p = reply->qname; *p != '\0'; p++)
    g_assert_true (*p > 0x20 && *p < 0x7f);
  g_assert_cmpuint (reply->cnames->len, <=, 8);
  for (guint i = 0; i < reply->addresses->len; i++)
    {
      g_autoptr(GInetAddress) address =
        g_inet_address_new_from_string (g_ptr_array_index (reply->addresses, i));

      g_assert_nonnull (address);
      g_assert_cmpint (g_inet_address_get_family (address), ==,
                       reply->qtype == MOAT_DNS_TYPE_A ? G_SOCKET_FAMILY_IPV4
                                                       : G_SOCKET_FAMILY_IPV6);
    }
  if (reply->truncated)
    g_assert_cmpuint (reply->addresses->len, ==, 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GByteArray) framed = NULL;
  static const guint8 question[] = {
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, MOAT_DNS_TYPE_A, 0, 1,
  };
  guint8 header[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0 };

  if (size > 64 * 1024)
    return 0;
  check_reply (data, size);

  /* The same bytes as the records of a reply to "example.com A"; the first
   * two bytes say how many answer and additional records there are. */
  framed = g_byte_array_sized_new (sizeof header + sizeof question + size);
  if (size >= 2)
    {
      header[7] = data[0] % 16;
      header[11] = data[1] % 4;
      data += 2;
      size -= 2;
    }
  g_byte_array_append (framed, header, sizeof header);
  g_byte_array_append (framed, question, sizeof question);
  g_byte_array_append (framed, data, size);
  check_reply (framed->data, framed->len);
  return 0;
}
