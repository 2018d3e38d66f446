-- Text that is neither a registered identifier nor shaped like a VIN.
select *
from (
    values
    ('3f2a9c0d1e4b5a67', 'fob-0002', 'Model 3'),
    ('77aa00bb11cc22dd', 'ph-12', '5YJ3E1EA7KF00000')
) as pseudonymized (vehicle_key, other_key, model)
