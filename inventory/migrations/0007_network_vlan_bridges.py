# VLAN networks share the hosts' Open vSwitch bridge, one VLAN each; an untagged
# network still has its Linux bridge to itself.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0006_storagedomain_nfs'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='network',
            name='network_bridge_unique_per_data_center',
        ),
        migrations.AddConstraint(
            model_name='network',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('bridge', ''), _negated=True), ('vlan__isnull', True)), fields=('data_center', 'bridge'), name='network_bridge_unique_per_data_center'),
        ),
        migrations.AddConstraint(
            model_name='network',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('bridge', ''), _negated=True), ('vlan__isnull', False)), fields=('data_center', 'bridge', 'vlan'), name='network_vlan_unique_per_bridge'),
        ),
    ]
