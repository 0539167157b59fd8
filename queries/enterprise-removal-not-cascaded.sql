-- title: Removed from the Enterprise Account, still in its team
-- severity: high
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
members AS (
  SELECT
    m.team_id,
    m.team_name,
    m.email,
    m.email_norm,
    m.user_id,
    m.role,
    COALESCE(m.member_id, m.user_id, m.email_norm) AS member_key,
    t.enterprise_account_id,
    t.enterprise_account_name
  FROM team_members m
  JOIN teams t ON m.team_id = t.id
  WHERE t.enterprise_account_id IS NOT NULL
),
-- The same person: the same user id where both lists have one, the same email otherwise.
in_account AS (
  SELECT m.team_id, m.member_key
  FROM members m
  JOIN enterprise_members e ON e.enterprise_account_id = m.enterprise_account_id AND e.user_id = m.user_id
  UNION
  SELECT m.team_id, m.member_key
  FROM members m
  JOIN enterprise_members e ON e.enterprise_account_id = m.enterprise_account_id AND e.email_norm = m.email_norm
  WHERE e.user_id IS NULL OR m.user_id IS NULL
)
SELECT
  m.team_id,
  m.team_name,
  m.email,
  m.role,
  m.enterprise_account_name AS enterprise_account,
  r.removed_at AS removed_from_enterprise_at,
  CASE
    WHEN r.removed_at IS NULL THEN 'Member of a team of enterprise account ' || m.enterprise_account_name || ' but not of the account itself'
    ELSE 'Removed from enterprise account ' || m.enterprise_account_name || ' but still a member of its team'
  END AS message
FROM members m
LEFT JOIN in_account x ON x.team_id = m.team_id AND x.member_key = m.member_key
LEFT JOIN removals r ON r.enterprise_account_id = m.enterprise_account_id AND r.target_email_norm = m.email_norm
WHERE x.member_key IS NULL
