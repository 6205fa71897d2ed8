-- Databases on the compose stack's PostgreSQL: Temporal's two, and Leda's event store.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE DATABASE leda;
