{{ access_analytics.assert_raw_table_matches_contract('vehicles') }}

{#- The vehicle registry as of its newest snapshot (older snapshots are history, not truth). -#}

{{ access_analytics.newest_registry_snapshot('vehicles') }}
