"""Chat and Documents: ingest, the vector and keyword indexes, hybrid search, answers with checked citations."""
