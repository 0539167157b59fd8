-- title: Member from outside the organisation's email domains
-- severity: medium
-- fix: manual
-- certify: review
-- frees-seat: false
-- confidence: medium
-- description: A team member's email domain is not one of `org_domains` (config; by default the
--   audit identity's domain). Contractors and partners are normal, but they are not offboarded by
--   your identity provider and need their own review.
-- remediation: Confirm the member still has a contract that needs this access; record it with an
--   `ignore` entry and a reason, or remove them.
-- tables: team_members
-- gap_scope: team
SELECT
  team_id,
  team_name,
  email,
  role,
  SPLIT_PART(email_norm, '@', 2) AS domain,
  'Email domain ' || SPLIT_PART(email_norm, '@', 2) || ' is outside the organisation' AS message
FROM team_members
WHERE SPLIT_PART(email_norm, '@', 2) NOT IN (SELECT domain FROM org_domains)
