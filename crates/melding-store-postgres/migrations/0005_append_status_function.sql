-- A guarded status append in one round trip. Called on its own it is its own transaction, so
-- publishing a letter costs one statement instead of BEGIN, lock, guard, write and COMMIT.
--
-- The letter's row lock serialises appends to one letter. Each command of a volatile PL/pgSQL
-- function takes a fresh snapshot under READ COMMITTED, so the guard, evaluated after the lock
-- is granted, sees every status committed by the appender that held it.
--
-- Returns NULL when there is no such letter, false when the guard blocks the append, true when
-- the status was written.
CREATE FUNCTION melding_append_status(
    p_id UUID,
    p_status INTEGER,
    p_text TEXT,
    p_at TIMESTAMPTZ,
    p_party TEXT,
    p_unless_any INTEGER[],           -- blocked if the log holds any of these
    p_unless_same_since TIMESTAMPTZ,  -- blocked if the same status by the same party is this recent
    p_fetched INTEGER,                -- never becomes the latest status
    p_published INTEGER               -- also sets the publish time, once
) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM correspondences WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_unless_any IS NOT NULL AND EXISTS (
        SELECT 1 FROM correspondence_statuses
        WHERE correspondence_id = p_id AND status = ANY (p_unless_any)
    ) THEN
        RETURN false;
    END IF;
    IF p_unless_same_since IS NOT NULL AND EXISTS (
        SELECT 1 FROM correspondence_statuses
        WHERE correspondence_id = p_id AND status = p_status
          AND party IS NOT DISTINCT FROM p_party AND changed_at >= p_unless_same_since
    ) THEN
        RETURN false;
    END IF;
    INSERT INTO correspondence_statuses (correspondence_id, status, status_text, changed_at, party)
    VALUES (p_id, p_status, p_text, p_at, p_party);
    IF p_status <> p_fetched THEN
        UPDATE correspondences
        SET last_status = p_status,
            published = CASE WHEN p_status = p_published THEN coalesce(published, p_at)
                             ELSE published END
        WHERE id = p_id;
    END IF;
    RETURN true;
END
$$;
