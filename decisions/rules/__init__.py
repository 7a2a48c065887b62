"""Rule packs as data: conditions, rules and parameters, layering, evaluation. Pure."""
