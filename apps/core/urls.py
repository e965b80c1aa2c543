from django.urls import path

from . import views
from .metrics import metrics_view

app_name = "core"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("health/", views.health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<uuid:pk>/", views.JobDetailView.as_view(), name="job_detail"),
]
