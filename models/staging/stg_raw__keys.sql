{{ access_analytics.assert_raw_table_matches_contract('keys') }}

{#- The key registry as of its newest snapshot. -#}

{{ access_analytics.newest_registry_snapshot('keys') }}
