/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-finding.h"

static MoatFinding *
finding_new (const char        *detector,
             const char        *subject,
             MoatFindingResult  result,
             const char        *summary)
{
  MoatFinding *self = g_new0 (MoatFinding, 1);

  self->detector = g_strdup (detector);
  self->subject = g_strdup (subject);
  self->result = result;
  self->severity = MOAT_SEVERITY_INFO;
  self->summary = g_strdup (summary != NULL ? summary : "");
  return self;
}

/**
 * moat_finding_new_clean:
 *
 * Returns: (transfer full): a finding that says @subject passed.
 */
MoatFinding *
moat_finding_new_clean (const char *detector,
                        const char *subject,
                        const char *summary)
{
  g_return_val_if_fail (detector != NULL && subject != NULL, NULL);

  return finding_new (detector, subject, MOAT_FINDING_CLEAN, summary);
}

/**
 * moat_finding_new_threat:
 * @evidence: (nullable): a JSON object, as text
 *
 * Returns: (transfer full): a finding that says @subject shows @threat.
 */
MoatFinding *
moat_finding_new_threat (const char  *detector,
                         const char  *subject,
                         const char  *threat,
                         MoatSeverity severity,
                         const char  *summary,
                         const char  *evidence)
{
  MoatFinding *self;

  g_return_val_if_fail (detector != NULL && subject != NULL, NULL);
  g_return_val_if_fail (moat_threat_id_is_valid (threat), NULL);

  self = finding_new (detector, subject, MOAT_FINDING_THREAT, summary);
  self->threat = g_strdup (threat);
  self->severity = severity;
  self->evidence = g_strdup (evidence);
  return self;
}

/**
 * moat_finding_new_inconclusive:
 *
 * Returns: (transfer full): a finding that says the check of @subject could
 *   not decide, and why (@summary).
 */
MoatFinding *
moat_finding_new_inconclusive (const char *detector,
                               const char *subject,
                               const char *summary)
{
  g_return_val_if_fail (detector != NULL && subject != NULL, NULL);

  return finding_new (detector, subject, MOAT_FINDING_INCONCLUSIVE, summary);
}

MoatFinding *
moat_finding_copy (const MoatFinding *finding)
{
  MoatFinding *self;

  g_return_val_if_fail (finding != NULL, NULL);

  self = finding_new (finding->detector, finding->subject, finding->result, finding->summary);
  self->threat = g_strdup (finding->threat);
  self->severity = finding->severity;
  self->evidence = g_strdup (finding->evidence);
  self->duration_us = finding->duration_us;
  return self;
}

void
moat_finding_free (MoatFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->detector);
  g_free (finding->subject);
  g_free (finding->threat);
  g_free (finding->summary);
  g_free (finding->evidence);
  g_free (finding);
}

const char *
moat_finding_result_to_string (MoatFindingResult result)
{
  switch (result)
    {
    case MOAT_FINDING_CLEAN:
      return "clean";
    case MOAT_FINDING_THREAT:
      return "threat";
    case MOAT_FINDING_INCONCLUSIVE:
    default:
      return "inconclusive";
    }
}
