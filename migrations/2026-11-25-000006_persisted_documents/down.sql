DROP TABLE persisted_registry, persisted_documents, persisted_clients;
