{{ access_analytics.assert_raw_table_matches_contract('vehicles', partitions_read='newest') }}

{#- The vehicle registry as of its newest snapshot (older snapshots are history, not truth). -#}

{{ access_analytics.newest_registry_snapshot('vehicles') }}
