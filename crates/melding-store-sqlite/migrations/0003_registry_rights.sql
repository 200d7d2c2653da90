-- Who may read an organisation's post: sub-units point at their main unit, persons carry their
-- KRR reservation, resources their read policy (a JSON array of rights: role codes and access
-- package URNs; empty means the ordinary-post package). Enhetsregisteret roles come from
-- imports; delegations are granted and revoked through the API, and every change is logged.

ALTER TABLE organizations ADD COLUMN parent TEXT NULL;
ALTER TABLE persons ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN read_policy TEXT NOT NULL DEFAULT '[]';

-- The sub-units of an organisation.
CREATE INDEX organizations_by_parent ON organizations (parent);

CREATE TABLE roles (
    org_number  TEXT NOT NULL REFERENCES organizations (org_number),
    national_id TEXT NOT NULL REFERENCES persons (national_id),
    role        TEXT NOT NULL,
    PRIMARY KEY (org_number, national_id, role)
);

CREATE INDEX roles_by_person ON roles (national_id);

CREATE TABLE delegations (
    org_number  TEXT NOT NULL REFERENCES organizations (org_number),
    national_id TEXT NOT NULL REFERENCES persons (national_id),
    right_      TEXT NOT NULL,
    granted_by  TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (org_number, national_id, right_)
);

CREATE INDEX delegations_by_person ON delegations (national_id);

-- An audit trail: kept for parties as they were, so no foreign keys.
CREATE TABLE delegation_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    granted     INTEGER NOT NULL,
    org_number  TEXT NOT NULL,
    national_id TEXT NOT NULL,
    right_      TEXT NOT NULL
);

CREATE INDEX delegation_log_by_org ON delegation_log (org_number, id);
