//! Placeholder until the generator can build the example site (see the report).
