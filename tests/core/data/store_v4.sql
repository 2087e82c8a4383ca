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
INSERT INTO "block_documents" VALUES('32f3a88b-b718-4f06-84bb-6985a8b3c2b2','greeting','string','{"value": "hello"}','sha256:5757dad501be0c27286d2b94f4b2cd1fabd50b1e24577559d5253a9a7688e8a7',NULL,NULL,0,'2026-11-29T17:46:16.462502+00:00','2026-11-29T17:46:16.462502+00:00',1);
INSERT INTO "block_documents" VALUES('d7eb1bd5-cae6-4062-9a66-ddbdbbe2e1f7','anonymous-f5ad358d36c74798bc551cb06b0879a6','endpoint','{"port": 8443, "url": "https://api.example.com"}','sha256:41219de80fa79978921a4c6f1969c46b13914f4f8f91b03d388ea90bbbc7f0eb',NULL,NULL,1,'2026-11-29T17:46:16.787031+00:00','2026-11-29T17:46:16.787031+00:00',1);
INSERT INTO "block_documents" VALUES('6d33724b-480c-4369-8121-f30cd276297a','api','service','{"$refs": {"endpoint": "d7eb1bd5-cae6-4062-9a66-ddbdbbe2e1f7"}, "owner": "ops"}','sha256:f78062d6bc2924c8df52ddab681d2c1a2b1ab7fcfc96c111142206a761564723',NULL,NULL,0,'2026-11-29T17:46:16.787102+00:00','2026-11-29T17:46:16.787102+00:00',1);
INSERT INTO "block_documents" VALUES('aae68d62-0a23-41ad-a1d6-bdc048eb4be4','db','endpoint','{"port": 5432, "url": "https://db.example.com"}','sha256:41219de80fa79978921a4c6f1969c46b13914f4f8f91b03d388ea90bbbc7f0eb',NULL,NULL,0,'2026-11-29T17:46:16.787582+00:00','2026-11-29T17:46:16.787582+00:00',1);
CREATE TABLE block_references (
            parent_id TEXT NOT NULL REFERENCES block_documents (id),
            field TEXT NOT NULL,
            child_id TEXT NOT NULL REFERENCES block_documents (id),
            PRIMARY KEY (parent_id, field));
INSERT INTO "block_references" VALUES('6d33724b-480c-4369-8121-f30cd276297a','endpoint','d7eb1bd5-cae6-4062-9a66-ddbdbbe2e1f7');
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
INSERT INTO "block_types" VALUES('string','String','A plain string value, such as an environment name or a table prefix.',NULL,'[]','{"additionalProperties": false, "block_capabilities": [], "block_type_slug": "string", "description": "A plain string value, such as an environment name or a table prefix.", "properties": {"value": {"description": "The string value", "title": "Value", "type": "string"}}, "required": ["value"], "secret_fields": [], "title": "String", "type": "object"}','sha256:5757dad501be0c27286d2b94f4b2cd1fabd50b1e24577559d5253a9a7688e8a7','core-blocks','0.1.0','2026-11-29T17:46:16.456803+00:00','2026-11-29T17:46:16.456803+00:00');
INSERT INTO "block_types" VALUES('endpoint','Endpoint','Where a service listens.',NULL,'[]','{"additionalProperties": false, "block_capabilities": [], "block_type_slug": "endpoint", "description": "Where a service listens.", "properties": {"port": {"title": "Port", "type": "integer"}, "url": {"title": "Url", "type": "string"}}, "required": ["url", "port"], "secret_fields": [], "title": "Endpoint", "type": "object"}','sha256:41219de80fa79978921a4c6f1969c46b13914f4f8f91b03d388ea90bbbc7f0eb','tests',NULL,'2026-11-29T17:46:16.669455+00:00','2026-11-29T17:46:16.669455+00:00');
INSERT INTO "block_types" VALUES('service','Service','A service with its endpoint nested.',NULL,'[]','{"$defs": {"Endpoint": {"additionalProperties": false, "block_capabilities": [], "block_type_slug": "endpoint", "description": "Where a service listens.", "properties": {"port": {"title": "Port", "type": "integer"}, "url": {"title": "Url", "type": "string"}}, "required": ["url", "port"], "secret_fields": [], "title": "Endpoint", "type": "object"}}, "additionalProperties": false, "block_capabilities": [], "block_type_slug": "service", "description": "A service with its endpoint nested.", "properties": {"endpoint": {"$ref": "#/$defs/Endpoint"}, "owner": {"title": "Owner", "type": "string"}}, "required": ["endpoint", "owner"], "secret_fields": [], "title": "Service", "type": "object"}','sha256:f78062d6bc2924c8df52ddab681d2c1a2b1ab7fcfc96c111142206a761564723','tests',NULL,'2026-11-29T17:46:16.786808+00:00','2026-11-29T17:46:16.786808+00:00');
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
INSERT INTO "concurrency_limits" VALUES('warehouse',2,1.79597437679817819589e+09);
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
INSERT INTO "run_artifacts" VALUES('64589edf771a419da07c02dafb0173ae','56a23c0b76ef49d49fa5f697f31d8c69','a6cf71b15c4845d0b3e2c8ae38775ae1','doubled','markdown',NULL,'"**0** doubled is 0"',1.79597437679117155075e+09);
INSERT INTO "run_artifacts" VALUES('90867e24fe8d4cf1bcbed7af8295b193','bffac00608bf424d8218f16dc130f44a','a6cf71b15c4845d0b3e2c8ae38775ae1','doubled','markdown',NULL,'"**1** doubled is 2"',1.79597437679124522207e+09);
CREATE TABLE run_states (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            name TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            message TEXT,
            PRIMARY KEY (run_id, seq));
INSERT INTO "run_states" VALUES('a6cf71b15c4845d0b3e2c8ae38775ae1',0,'Pending','Pending',1.7959743767878706455e+09,NULL);
INSERT INTO "run_states" VALUES('a6cf71b15c4845d0b3e2c8ae38775ae1',1,'Running','Running',1.79597437679098486905e+09,NULL);
INSERT INTO "run_states" VALUES('56a23c0b76ef49d49fa5f697f31d8c69',0,'Pending','Pending',1.7959743767911062241e+09,NULL);
INSERT INTO "run_states" VALUES('56a23c0b76ef49d49fa5f697f31d8c69',1,'Running','Running',1.79597437679113960265e+09,NULL);
INSERT INTO "run_states" VALUES('56a23c0b76ef49d49fa5f697f31d8c69',2,'Completed','Completed',1.79597437679117774966e+09,NULL);
INSERT INTO "run_states" VALUES('bffac00608bf424d8218f16dc130f44a',0,'Pending','Pending',1.7959743767912166118e+09,NULL);
INSERT INTO "run_states" VALUES('bffac00608bf424d8218f16dc130f44a',1,'Running','Running',1.79597437679123353958e+09,NULL);
INSERT INTO "run_states" VALUES('bffac00608bf424d8218f16dc130f44a',2,'Completed','Completed',1.79597437679124784463e+09,NULL);
INSERT INTO "run_states" VALUES('a6cf71b15c4845d0b3e2c8ae38775ae1',2,'Completed','Completed',1.79597437679126453397e+09,NULL);
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
INSERT INTO "runs" VALUES('a6cf71b15c4845d0b3e2c8ae38775ae1','flow','nightly-a6cf71b1','nightly','nightly',NULL,NULL,'{"n": 2}','Completed','Completed',1,1.79597437678785872461e+09,1.79597437679098486905e+09,1.79597437679126453397e+09,NULL,NULL,NULL,1.79597437679299855228e+09,30.0);
INSERT INTO "runs" VALUES('56a23c0b76ef49d49fa5f697f31d8c69','task','double-56a23c0b','double','nightly','a6cf71b15c4845d0b3e2c8ae38775ae1','a6cf71b15c4845d0b3e2c8ae38775ae1','{"x": 0}','Completed','Completed',1,1.79597437679110193253e+09,1.79597437679113960265e+09,1.79597437679117774966e+09,NULL,NULL,NULL,1.79597437679299855228e+09,30.0);
INSERT INTO "runs" VALUES('bffac00608bf424d8218f16dc130f44a','task','double-bffac006','double','nightly','a6cf71b15c4845d0b3e2c8ae38775ae1','a6cf71b15c4845d0b3e2c8ae38775ae1','{"x": 1}','Completed','Completed',1,1.79597437679121494291e+09,1.79597437679123353958e+09,1.79597437679124784463e+09,NULL,NULL,NULL,1.79597437679299855228e+09,30.0);
CREATE TABLE secret_journal (
            secret_key TEXT PRIMARY KEY,
            backend TEXT NOT NULL,
            state TEXT NOT NULL,
            created TEXT NOT NULL);
INSERT INTO "secret_journal" VALUES('secret-left-by-a-crash','file','pending','2026-11-29T17:46:16.787692+00:00');
CREATE INDEX block_references_child ON block_references (child_id);
CREATE INDEX runs_created ON runs (created);
CREATE INDEX runs_parent ON runs (parent_id);
CREATE INDEX concurrency_leases_name ON concurrency_leases (name);
CREATE INDEX run_artifacts_run ON run_artifacts (run_id);
CREATE INDEX run_artifacts_key ON run_artifacts (key, created);
COMMIT;
