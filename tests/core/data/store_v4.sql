BEGIN TRANSACTION;
CREATE TABLE block_documents (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            type_slug TEXT NOT NULL REFERENCES block_types (slug),
            data TEXT NOT NULL,
            schema_checksum TEXT NOT NULL,
            secret_key TEXT,
            secret_backend TEXT,
            anonymous INTEGER NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            version INTEGER NOT NULL,
            UNIQUE (type_slug, name));
INSERT INTO "block_documents" VALUES('6b72a1de-30cb-40e2-9572-94cdb99328d0','greeting','string','{"value": "hello"}','sha256:5757dad501be0c27286d2b94f4b2cd1fabd50b1e24577559d5253a9a7688e8a7',NULL,NULL,0,'2026-11-29T17:57:04.394494+00:00','2026-11-29T17:57:04.394494+00:00',1);
INSERT INTO "block_documents" VALUES('fbe5618a-130b-4480-906b-9247277e00eb','anonymous-168302ed075e455ba59e7e16d5b68fe9','legacy-endpoint','{"port": 8443, "url": "https://api.example.com"}','sha256:16dab3ebb7d538311b3b8d7847761fa38c9f74fe85cd6c1371f1458fb95b1335',NULL,NULL,1,'2026-11-29T17:57:04.545154+00:00','2026-11-29T17:57:04.545154+00:00',1);
INSERT INTO "block_documents" VALUES('bbf1aea9-7320-4879-82ab-7f1cc581d687','api','legacy-service','{"$refs": {"endpoint": "fbe5618a-130b-4480-906b-9247277e00eb"}, "owner": "ops"}','sha256:3c973a07252c6833622d13931969d33a5144cacab092f3b6d19bc7b16eab110a',NULL,NULL,0,'2026-11-29T17:57:04.545223+00:00','2026-11-29T17:57:04.545223+00:00',1);
INSERT INTO "block_documents" VALUES('92a541e1-0395-4e31-82ce-c79280a4a333','db','legacy-endpoint','{"port": 5432, "url": "https://db.example.com"}','sha256:16dab3ebb7d538311b3b8d7847761fa38c9f74fe85cd6c1371f1458fb95b1335',NULL,NULL,0,'2026-11-29T17:57:04.545680+00:00','2026-11-29T17:57:04.545680+00:00',1);
CREATE TABLE block_references (
            parent_id TEXT NOT NULL REFERENCES block_documents (id),
            field TEXT NOT NULL,
            child_id TEXT NOT NULL REFERENCES block_documents (id),
            PRIMARY KEY (parent_id, field));
INSERT INTO "block_references" VALUES('bbf1aea9-7320-4879-82ab-7f1cc581d687','endpoint','fbe5618a-130b-4480-906b-9247277e00eb');
CREATE TABLE block_types (
            slug TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            documentation_url TEXT,
            capabilities TEXT NOT NULL,
            schema TEXT NOT NULL,
            checksum TEXT NOT NULL,
            package TEXT,
            package_version TEXT,
            created TEXT NOT NULL,
            updated TEXT NOT NULL);
INSERT INTO "block_types" VALUES('string','String','A plain string value, such as an environment name or a table prefix.',NULL,'[]','{"additionalProperties": false, "block_capabilities": [], "block_type_slug": "string", "description": "A plain string value, such as an environment name or a table prefix.", "properties": {"value": {"description": "The string value", "title": "Value", "type": "string"}}, "required": ["value"], "secret_fields": [], "title": "String", "type": "object"}','sha256:5757dad501be0c27286d2b94f4b2cd1fabd50b1e24577559d5253a9a7688e8a7','core-blocks','0.1.0','2026-11-29T17:57:04.393783+00:00','2026-11-29T17:57:04.393783+00:00');
INSERT INTO "block_types" VALUES('legacy-service','LegacyService','A service with its endpoint nested.',NULL,'[]','{"$defs": {"LegacyEndpoint": {"additionalProperties": false, "block_capabilities": [], "block_type_slug": "legacy-endpoint", "description": "Where a service listens.", "properties": {"port": {"title": "Port", "type": "integer"}, "url": {"title": "Url", "type": "string"}}, "required": ["url", "port"], "secret_fields": [], "title": "LegacyEndpoint", "type": "object"}}, "additionalProperties": false, "block_capabilities": [], "block_type_slug": "legacy-service", "description": "A service with its endpoint nested.", "properties": {"endpoint": {"$ref": "#/$defs/LegacyEndpoint"}, "owner": {"title": "Owner", "type": "string"}}, "required": ["endpoint", "owner"], "secret_fields": [], "title": "LegacyService", "type": "object"}','sha256:3c973a07252c6833622d13931969d33a5144cacab092f3b6d19bc7b16eab110a','tests',NULL,'2026-11-29T17:57:04.497120+00:00','2026-11-29T17:57:04.497120+00:00');
INSERT INTO "block_types" VALUES('legacy-endpoint','LegacyEndpoint','Where a service listens.',NULL,'[]','{"additionalProperties": false, "block_capabilities": [], "block_type_slug": "legacy-endpoint", "description": "Where a service listens.", "properties": {"port": {"title": "Port", "type": "integer"}, "url": {"title": "Url", "type": "string"}}, "required": ["url", "port"], "secret_fields": [], "title": "LegacyEndpoint", "type": "object"}','sha256:16dab3ebb7d538311b3b8d7847761fa38c9f74fe85cd6c1371f1458fb95b1335','tests',NULL,'2026-11-29T17:57:04.544950+00:00','2026-11-29T17:57:04.544950+00:00');
CREATE TABLE concurrency_leases (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            occupy INTEGER NOT NULL,
            holder TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL);
CREATE TABLE concurrency_limits (
            name TEXT PRIMARY KEY,
            slots INTEGER NOT NULL,
            updated DOUBLE PRECISION NOT NULL);
INSERT INTO "concurrency_limits" VALUES('warehouse',2,1.79597502454893398287e+09);
CREATE TABLE core_blocks_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "core_blocks_meta" VALUES('schema_version','4');
CREATE TABLE run_artifacts (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            flow_run_id TEXT,
            key TEXT NOT NULL,
            type TEXT NOT NULL,
            description TEXT,
            data TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL);
INSERT INTO "run_artifacts" VALUES('b83bdd5c6035470fa6d75758eae713f8','50ab55f844ce486a91d04cb08524559a','6882c790b1f64df59aec7d145ac619f6','doubled','markdown',NULL,'"**0** doubled is 0"',1.79597502454635500907e+09);
INSERT INTO "run_artifacts" VALUES('7d7514bff552413dbef6b07f6fb0b799','3156e2d49ab549b98f6120a0d4e9a588','6882c790b1f64df59aec7d145ac619f6','doubled','markdown',NULL,'"**1** doubled is 2"',1.79597502454641795152e+09);
CREATE TABLE run_states (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            name TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            message TEXT,
            PRIMARY KEY (run_id, seq));
INSERT INTO "run_states" VALUES('6882c790b1f64df59aec7d145ac619f6',0,'Pending','Pending',1.79597502454592418668e+09,NULL);
INSERT INTO "run_states" VALUES('6882c790b1f64df59aec7d145ac619f6',1,'Running','Running',1.79597502454625630383e+09,NULL);
INSERT INTO "run_states" VALUES('50ab55f844ce486a91d04cb08524559a',0,'Pending','Pending',1.79597502454630327224e+09,NULL);
INSERT INTO "run_states" VALUES('50ab55f844ce486a91d04cb08524559a',1,'Running','Running',1795975024.54633,NULL);
INSERT INTO "run_states" VALUES('50ab55f844ce486a91d04cb08524559a',2,'Completed','Completed',1.79597502454636096958e+09,NULL);
INSERT INTO "run_states" VALUES('3156e2d49ab549b98f6120a0d4e9a588',0,'Pending','Pending',1.79597502454639291764e+09,NULL);
INSERT INTO "run_states" VALUES('3156e2d49ab549b98f6120a0d4e9a588',1,'Running','Running',1.79597502454640769956e+09,NULL);
INSERT INTO "run_states" VALUES('3156e2d49ab549b98f6120a0d4e9a588',2,'Completed','Completed',1.79597502454642033581e+09,NULL);
INSERT INTO "run_states" VALUES('6882c790b1f64df59aec7d145ac619f6',2,'Completed','Completed',1.79597502454643440246e+09,NULL);
CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            fn_name TEXT NOT NULL,
            flow_name TEXT,
            parent_id TEXT,
            flow_run_id TEXT,
            parameters TEXT NOT NULL,
            state TEXT NOT NULL,
            state_name TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            started DOUBLE PRECISION,
            ended DOUBLE PRECISION,
            error_type TEXT,
            error_message TEXT,
            traceback TEXT, heartbeat DOUBLE PRECISION, heartbeat_timeout DOUBLE PRECISION);
INSERT INTO "runs" VALUES('6882c790b1f64df59aec7d145ac619f6','flow','nightly-6882c790','nightly','nightly',NULL,NULL,'{"n": 2}','Completed','Completed',1,1.79597502454591345785e+09,1.79597502454625630383e+09,1.79597502454643440246e+09,NULL,NULL,NULL,1.79597502454800462719e+09,30.0);
INSERT INTO "runs" VALUES('50ab55f844ce486a91d04cb08524559a','task','double-50ab55f8','double','nightly','6882c790b1f64df59aec7d145ac619f6','6882c790b1f64df59aec7d145ac619f6','{"x": 0}','Completed','Completed',1,1.79597502454630088804e+09,1795975024.54633,1.79597502454636096958e+09,NULL,NULL,NULL,1.79597502454800462719e+09,30.0);
INSERT INTO "runs" VALUES('3156e2d49ab549b98f6120a0d4e9a588','task','double-3156e2d4','double','nightly','6882c790b1f64df59aec7d145ac619f6','6882c790b1f64df59aec7d145ac619f6','{"x": 1}','Completed','Completed',1,1.79597502454639101031e+09,1.79597502454640769956e+09,1.79597502454642033581e+09,NULL,NULL,NULL,1.79597502454800462719e+09,30.0);
CREATE TABLE secret_journal (
            secret_key TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            state TEXT NOT NULL,
            created TEXT NOT NULL);
INSERT INTO "secret_journal" VALUES('secret-left-by-a-crash','file','pending','2026-11-29T17:57:04.545762+00:00');
CREATE INDEX block_references_child ON block_references (child_id);
CREATE INDEX runs_created ON runs (created);
CREATE INDEX runs_parent ON runs (parent_id);
CREATE INDEX concurrency_leases_name ON concurrency_leases (name);
CREATE INDEX run_artifacts_run ON run_artifacts (run_id);
CREATE INDEX run_artifacts_key ON run_artifacts (key, created);
COMMIT;
