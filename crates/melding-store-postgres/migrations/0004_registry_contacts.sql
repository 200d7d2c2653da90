-- Where to reach a party: postal addresses for print, a person's KRR entry (e-mail, mobile and
-- digital mailbox), an organisation's official notification addresses and the contacts it
-- registered itself. Each is a JSON document of `melding_store`'s registry types; lists default
-- to empty, single values to NULL (none registered).

ALTER TABLE persons ADD COLUMN address JSONB;
ALTER TABLE persons ADD COLUMN krr JSONB;
ALTER TABLE organizations ADD COLUMN address JSONB;
ALTER TABLE organizations ADD COLUMN notification_emails JSONB NOT NULL DEFAULT '[]';
ALTER TABLE organizations ADD COLUMN notification_mobiles JSONB NOT NULL DEFAULT '[]';
ALTER TABLE organizations ADD COLUMN contacts JSONB NOT NULL DEFAULT '[]';
