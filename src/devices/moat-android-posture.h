/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/*
 * An Android phone's posture from what it says, as pure functions: the
 * parsers take a phone's output (which may lie, be garbage or be endless
 * within its cap) and the checks turn it into findings. Nothing here talks
 * to the phone; MoatAdbClient does.
 */

/**
 * MoatPostureResult:
 * @MOAT_POSTURE_OK: the check passed
 * @MOAT_POSTURE_THREAT: the check found @threat
 * @MOAT_POSTURE_UNKNOWN: the phone did not say, or said something that
 *   cannot be true; the finding says which
 */
typedef enum {
  MOAT_POSTURE_OK,
  MOAT_POSTURE_THREAT,
  MOAT_POSTURE_UNKNOWN,
} MoatPostureResult;

/**
 * MoatPostureFinding:
 * @check: which check ("security-patch", "android-version", "verified-boot",
 *   "bootloader", "encryption", "build-type", "usb-debugging")
 * @result: ok, threat or unknown
 * @threat: (nullable): an `os.*` threat id when @result is a threat
 * @severity: its severity (info otherwise)
 * @summary: one translated sentence
 * @evidence: what the phone said: the properties read, as a JSON object
 * @command: the command the evidence came from, as run on the phone
 */
typedef struct {
  char              *check;
  MoatPostureResult  result;
  char              *threat;
  MoatSeverity       severity;
  char              *summary;
  char              *evidence;
  char              *command;
} MoatPostureFinding;

void        moat_posture_finding_free          (MoatPostureFinding *finding);
const char *moat_posture_result_to_string      (MoatPostureResult   result);

/* The most properties and the longest name and value Moat keeps. */
#define MOAT_GETPROP_MAX_PROPS 8192
#define MOAT_GETPROP_MAX_NAME 256
#define MOAT_GETPROP_MAX_VALUE 8192

/*
 * `getprop`'s output: lines of `[name]: [value]`. Lines that are not that
 * (or not UTF-8, or too long) are skipped and counted in @out_skipped; a
 * name given twice keeps its first value (a phone that repeats a property to
 * hide the real one is not believed twice). Fails only on a NUL byte or
 * too many properties.
 */
GHashTable *moat_android_parse_getprop    (const char   *text,
                                           gsize         length,
                                           guint        *out_skipped,
                                           GError      **error);

/*
 * The checks that need only properties, against @now: security patch level
 * and its age (older than 90 days medium, a year high; a date in the future
 * is not believed), Android version still supported (API level 31, Android
 * 12, or later), verified boot state, bootloader lock, encryption, build
 * type (userdebug/eng builds and ro.secure=0 are rooted), USB debugging.
 */
GPtrArray  *moat_android_check_properties (GHashTable   *props,
                                           GDateTime    *now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatPostureFinding, moat_posture_finding_free)

G_END_DECLS
