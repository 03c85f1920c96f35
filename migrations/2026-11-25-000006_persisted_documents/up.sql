-- Registered (trusted) documents: integrators' and the frontend's
-- operations, imported from manifests by `fulexo persisted import`. Not
-- tenant-owned: a document is the text of an operation, and every call of
-- it still runs as the caller's tenant.

-- A client: the owner of one manifest, enabled or revoked as a whole.
CREATE TABLE persisted_clients (
    name text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE persisted_documents (
    client_name text NOT NULL REFERENCES persisted_clients (name) ON DELETE CASCADE,
    -- The manifest's id for the document (a hash for Apollo and Relay).
    id text NOT NULL,
    -- sha256 of the body as sent: the `sha256:<hash>` document id and the
    -- APQ hash.
    sha256 text NOT NULL,
    -- sha256 of the body with whitespace, comments and definition order
    -- ignored: how safelist mode recognises free-form text.
    normalized_sha256 text NOT NULL,
    operation_name text,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_name, id)
);
-- Calls by `sha256:<hash>` and APQ hashes; safelist matches; Relay ids
-- (the primary key leads with the client, which a call does not name).
CREATE INDEX persisted_documents_sha256_idx ON persisted_documents (sha256);
CREATE INDEX persisted_documents_normalized_idx ON persisted_documents (normalized_sha256);
CREATE INDEX persisted_documents_id_idx ON persisted_documents (id);

-- Raised by every import, enabling and revocation: running services poll
-- it to reload their parsed documents.
CREATE TABLE persisted_registry (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL
);
INSERT INTO persisted_registry (version) VALUES (0);
