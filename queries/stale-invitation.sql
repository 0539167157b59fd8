-- title: Invitation pending for too long
-- severity: low
-- fix: revoke-invitation
-- certify: revoke
-- frees-seat: false
-- confidence: high
-- description: A team invitation has waited more than `invite_stale_days` days. Whoever holds the
--   invitation email can still accept it and get a seat, long after anyone remembers sending it.
-- remediation: Revoke the invitation (Dashboard → team → Access → pending invitations) and send a
--   new one if it is still wanted.
-- tables: team_invitations
-- params: as_of_epoch, invite_stale_days
-- gap_scope: team
SELECT
  team_id,
  team_name,
  email,
  role,
  invited_by_email AS invited_by,
  created_at AS invited_at,
  CAST(FLOOR((${as_of_epoch} - EXTRACT(EPOCH FROM created_at)) / 86400) AS BIGINT) AS days_pending,
  'Invitation pending for more than ${invite_stale_days} days' AS message
FROM team_invitations
WHERE EXTRACT(EPOCH FROM created_at) < ${as_of_epoch} - ${invite_stale_days} * 86400
