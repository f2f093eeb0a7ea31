-- 0014: which entry of the decision record holds each decision, so an export cites exactly the entries
-- it reports (caucus verify then checks each cited row against its entry). NULL: not decided (or the
-- decision was undone: a point reopened, an objection raised again).

ALTER TABLE items ADD COLUMN record_index INTEGER CHECK (record_index IS NULL OR record_index >= 0);
ALTER TABLE objections ADD COLUMN record_index INTEGER CHECK (record_index IS NULL OR record_index >= 0);
ALTER TABLE org_objections ADD COLUMN record_index INTEGER CHECK (record_index IS NULL OR record_index >= 0);
ALTER TABLE polls ADD COLUMN record_index INTEGER CHECK (record_index IS NULL OR record_index >= 0);
ALTER TABLE orgs ADD COLUMN record_index INTEGER CHECK (record_index IS NULL OR record_index >= 0);
