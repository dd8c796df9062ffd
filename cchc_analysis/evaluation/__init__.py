"""The evaluation: criteria (criteria.yaml), a verdict per criterion with its evidence, per district."""
