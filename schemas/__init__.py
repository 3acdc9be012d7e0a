"""StructTypes of every trajlake table: the single source of truth."""
