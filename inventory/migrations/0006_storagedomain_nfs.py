# NFS storage domains: the server and export mounted at the domain's path.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0005_cluster_shutdown_timeout'),
    ]

    operations = [
        migrations.AddField(
            model_name='storagedomain',
            name='nfs_server',
            field=models.CharField(blank=True, max_length=255, verbose_name='NFS server'),
        ),
        migrations.AddField(
            model_name='storagedomain',
            name='nfs_export',
            field=models.CharField(blank=True, max_length=1024, verbose_name='NFS export'),
        ),
    ]
