-- What the Resource Registry says about a resource besides its owner: its type
-- (`CorrespondenceService`, `GenericAccessResource`, `BrokerService`, `AltinnApp`) and the minimum
-- authentication level (0–4) its policy demands. Resources registered before keep working as the
-- correspondence services with level 0 they were treated as.

ALTER TABLE resources ADD COLUMN resource_type TEXT NOT NULL DEFAULT 'CorrespondenceService';
ALTER TABLE resources ADD COLUMN minimum_authentication_level SMALLINT NOT NULL DEFAULT 0
    CHECK (minimum_authentication_level BETWEEN 0 AND 4);

-- Self-identified users: persons without a national identity number, known by the login they
-- registered, keyed by their party URN (`urn:altinn:person:idporten-email:kari@example.no`,
-- `urn:altinn:person:legacy-selfidentified:kari77`). They receive post like any other party.
CREATE TABLE self_identified_users (
    urn  TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);
