from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.ChangeListView.as_view(), name="change_list"),
    path("who-held/", views.PointInTimeView.as_view(), name="point_in_time"),
]
