-- title: Removed from the Enterprise Account, still in its team
-- severity: high
-- fix: remove-team-member
-- certify: revoke
-- frees-seat: true
-- saving-reason: left
-- confidence: high
-- description: A member of a team that belongs to an Enterprise Account is not a member of that
--   account. Heroku does not cascade a removal from the Enterprise Account to its teams, so
--   someone offboarded at the account level keeps every team seat and the access it grants.
--   People are matched by Heroku user id where both lists carry one, by email otherwise (an
--   email that differs in case or alias is still the same user). With the audit trail, the
--   `enterprise_account_membership.destroy` event that removed them is shown as evidence.
-- remediation: Remove the member from the team as well (`heroku members:remove EMAIL --team TEAM`),
--   or, if they should stay, add them back to the Enterprise Account so the two lists agree.
-- tables: team_members, teams, enterprise_members
-- evidence: audit_events
-- gap_scope: team
WITH removals AS (
  SELECT enterprise_account_id, target_email_norm, MAX(created_at) AS removed_at
  FROM audit_events
  WHERE name = 'enterprise_account_membership.destroy' AND target_email_norm IS NOT NULL
  GROUP BY enterprise_account_id, target_email_norm
),
-- An account's members by user id, and by email with whether that row lacks a user id.
by_id AS (
  SELECT DISTINCT enterprise_account_id, user_id FROM enterprise_members WHERE user_id IS NOT NULL
),
by_email AS (
  SELECT enterprise_account_id, email_norm, MAX(CASE WHEN user_id IS NULL THEN 1 ELSE 0 END) AS without_id
  FROM enterprise_members
  WHERE email_norm IS NOT NULL
  GROUP BY enterprise_account_id, email_norm
)
SELECT
  m.team_id,
  m.team_name,
  m.email,
  m.role,
  t.enterprise_account_name AS enterprise_account,
  r.removed_at AS removed_from_enterprise_at,
  CASE
    WHEN r.removed_at IS NULL THEN 'Member of a team of enterprise account ' || t.enterprise_account_name || ' but not of the account itself'
    ELSE 'Removed from enterprise account ' || t.enterprise_account_name || ' but still a member of its team'
  END AS message
FROM team_members m
JOIN teams t ON m.team_id = t.id
LEFT JOIN by_id i ON i.enterprise_account_id = t.enterprise_account_id AND i.user_id = m.user_id
LEFT JOIN by_email e ON e.enterprise_account_id = t.enterprise_account_id AND e.email_norm = m.email_norm
LEFT JOIN removals r ON r.enterprise_account_id = t.enterprise_account_id AND r.target_email_norm = m.email_norm
WHERE t.enterprise_account_id IS NOT NULL
  -- The same person: the same user id where both lists have one, the same email otherwise.
  AND i.user_id IS NULL
  AND (e.email_norm IS NULL OR (m.user_id IS NOT NULL AND e.without_id = 0))
