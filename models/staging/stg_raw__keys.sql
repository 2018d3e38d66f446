{{ access_analytics.assert_raw_table_matches_contract('keys', partitions_read='newest') }}

{#- The key registry as of its newest snapshot. -#}

{{ access_analytics.newest_registry_snapshot('keys') }}
