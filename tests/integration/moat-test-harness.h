/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-dbus-generated.h"

G_BEGIN_DECLS

/*
 * A private session bus (GTestDBus) with a service directory of its own, a
 * temporary HOME/XDG tree and data dir, moatd and moatctl from the build tree
 * ($MOAT_BUILD_ROOT), and generated proxies on a connection of the test's own.
 */
typedef struct {
  char                 *tmpdir;
  char                 *data_dir;
  char                 *service_dir;
  char                 *moatd_path;
  char                 *moatctl_path;
  GTestDBus            *bus;
  GDBusConnection      *connection;
  GSubprocess          *moatd;
  MoatDBusMoat1        *proxy;
  MoatDBusMoat1Testing *testing;
  GStrv                 moatd_args;   /* more arguments for moatd; owned */
} MoatHarness;

typedef enum {
  MOAT_HARNESS_NONE = 0,
  /* A .service file that starts the build tree's moatd on this data dir. */
  MOAT_HARNESS_ACTIVATABLE = 1 << 0,
  /* A .service file whose Exec cannot run. */
  MOAT_HARNESS_BROKEN_SERVICE = 1 << 1,
} MoatHarnessFlags;

/* FALSE (after g_test_skip) when moatd or moatctl is not built. */
gboolean moat_harness_set_up        (MoatHarness      *h,
                                     MoatHarnessFlags  flags);
void     moat_harness_tear_down     (MoatHarness      *h);

void     moat_harness_start_moatd   (MoatHarness      *h);
/* Sends @signum and waits until moatd has exited; returns its wait status. */
int      moat_harness_stop_moatd    (MoatHarness      *h,
                                     int               signum);
gboolean moat_harness_name_has_owner (MoatHarness     *h);
void     moat_harness_wait_name     (MoatHarness      *h,
                                     gboolean          owned);
/* Stops whichever process owns the name (an activated moatd). */
void     moat_harness_stop_owner    (MoatHarness      *h);

/* Runs moatctl with the NULL-terminated arguments; returns its exit status
 * (or 128 + signal). */
int      moat_harness_moatctl       (MoatHarness      *h,
                                     char            **out_stdout,
                                     char            **out_stderr,
                                     ...) G_GNUC_NULL_TERMINATED;
GSubprocess *moat_harness_spawn_moatctl (MoatHarness  *h,
                                         GError      **error,
                                         ...) G_GNUC_NULL_TERMINATED;

/* AddEvents (a(xssssss)) then Flush, synchronously. */
void     moat_harness_add_events    (MoatHarness      *h,
                                     GVariant         *events);

/* Spins the default main context until @cond is TRUE or @timeout_s passes. */
gboolean moat_harness_spin_until    (gboolean        (*cond) (gpointer data),
                                     gpointer          data,
                                     guint             timeout_s);
void     moat_harness_spin_for      (guint             msec);

G_END_DECLS
