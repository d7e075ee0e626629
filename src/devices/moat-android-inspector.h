/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-adb-client.h"
#include "moat-android-apps.h"

G_BEGIN_DECLS

/**
 * MoatAndroidPosture:
 * @serial: the phone
 * @model: maker and model as the phone says ("samsung SM-A515F"), or ""
 * @os: "Android 11, patch 2023-01-05", or ""
 * @findings: (element-type MoatPostureFinding): one per check
 * @packages: (element-type MoatAndroidPackage) (nullable): the apps, when
 *   the phone listed them
 * @failed: how many commands failed (each made its checks unknown)
 *
 * What one inspection of a phone found.
 */
typedef struct {
  char      *serial;
  char      *model;
  char      *os;
  GPtrArray *findings;
  GPtrArray *packages;
  guint      failed;
} MoatAndroidPosture;

void moat_android_posture_free (MoatAndroidPosture *posture);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatAndroidPosture, moat_android_posture_free)

/* The phone said nothing Moat could use even for its properties. */
#define MOAT_ANDROID_INSPECT_TIMEOUT_MS 10000

/*
 * Runs every posture command on @serial through @client (a few at a time,
 * each with @timeout_ms, 0 for the default) and checks what came back. A
 * command that fails, times out or is cut off makes the checks that need it
 * "unknown", with the error as their evidence; the inspection fails as a
 * whole only when `getprop` does. @moat_proxy (nullable) is the proxy
 * address Moat set on the phone itself.
 */
void                moat_android_inspect_async  (MoatAdbClient        *client,
                                                 const char           *serial,
                                                 const char           *moat_proxy,
                                                 guint                 timeout_ms,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
MoatAndroidPosture *moat_android_inspect_finish (GAsyncResult         *result,
                                                 GError              **error);

/* The commands behind the checks, in the order they run. */
const char * const *moat_android_inspect_commands (void);

G_END_DECLS
