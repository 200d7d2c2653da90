-- A letter marked digital-only (Melding's addition, SvarUt's kunDigitalLevering): never printed.
-- Letters written before this migration were not.

ALTER TABLE correspondences ADD COLUMN digital_only BOOLEAN NOT NULL DEFAULT false;
