from django.urls import path

from .views import home, pages

app_name = "forum"

urlpatterns = [
    path("", home.home, name="home"),
    path("c/", home.category_list, name="categories"),
    path("c/<slug:slug>/", home.category_detail, name="category"),
    path("seiten/<slug:slug>/", pages.page, name="page"),
    path("barrierefreiheit/", pages.accessibility, name="accessibility"),
]
