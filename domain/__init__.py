"""Pure dispatch model: aggregates, value objects, rules, errors and the Dispatch application."""
